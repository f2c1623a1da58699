# Quick start: `make demo` runs the main job on the built-in example; `make test` runs the tests.
# Both create .venv with the pinned dependencies on first use.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_TOOLS := tools/node
NODE_STAMP := $(NODE_TOOLS)/node_modules/.installed-stamp

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; Spaceport needs Python 3.11 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/spaceport demo demo-output

# Pinned Node.js tools (PlayCanvas splat-transform, the independent SOG reader/writer the tests use).
$(NODE_STAMP): $(NODE_TOOLS)/package.json $(NODE_TOOLS)/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; the SOG tests need Node.js 20 and npm"; exit 1; }
	npm ci --prefix $(NODE_TOOLS) --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(NODE_STAMP)

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python bench/sfm.py
	$(BIN)/python bench/train.py
	$(BIN)/python bench/sog.py

clean:
	rm -rf $(VENV) demo-output $(NODE_TOOLS)/node_modules
