"""Native libraries sharing one process: pycolmap's bundled zlib must not break Pillow's PNGs.

pycolmap's extension exports its own zlib; imported before the system zlib is loaded, it
takes over libz's internal calls and the next PNG that Pillow writes corrupts the heap
(see src/spaceport/__init__.py). Each case runs in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# Run the given imports, then write PNGs of a few sizes with Pillow (system zlib).
SCRIPT = """
import io, signal, sys
exec(sys.argv[1])
signal.signal(signal.SIGABRT, signal.SIG_DFL)  # die at once on abort (pycolmap's handler can hang)
import numpy as np
from PIL import Image
rng = np.random.default_rng(0)
for height, width in ((300, 400), (450, 1280), (64, 64), (720, 1280)):
    Image.fromarray(rng.integers(0, 255, (height, width, 3), np.uint8)).save(io.BytesIO(), "PNG")
print("ok")
"""


def png_writes_survive(imports: str, timeout: float) -> bool:
    """True when a fresh interpreter runs `imports` and then writes PNGs without dying."""
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT, imports], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0 and done.stdout.strip() == "ok"


def test_pngs_survive_importing_spaceport_and_pycolmap():
    if png_writes_survive("import pycolmap", timeout=60):
        pytest.skip("this pycolmap build does not break the system zlib; the guard in spaceport/__init__.py can go")
    assert png_writes_survive("import spaceport, pycolmap", timeout=120)
