"""Builds (once, cached) and loads the CPU kernels as a PyTorch C++ extension.

The build directory lives in the user cache (``$XDG_CACHE_HOME`` or ``~/.cache``, under
``spaceport/torch_extensions``), keyed by the torch and Python versions, the CPU's
instruction-set flags (we compile with -march=native) and the sources, so a cache is never
reused on a machine or toolchain it was not built for. The first build takes ~30-60 s.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import sys
import tempfile
from pathlib import Path

import torch

SOURCES = ("project.cpp", "raster.cpp", "sh.cpp", "bindings.cpp")
HEADERS = ("kernels.h",)
NAME = "spaceport_splat_cpu"
CFLAGS = ["-O3", "-march=native", "-fopenmp", "-ffp-contract=off", "-fno-math-errno", "-std=c++17"]


def _cpu_flags() -> str:
    """The CPU's feature flags (Linux), or the platform's processor name elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return line
    except OSError:
        pass
    return platform.processor()


def build_key() -> str:
    """Short hash of everything that makes a compiled library reusable."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for part in (torch.__version__, sys.version, _cpu_flags(), " ".join(CFLAGS)):
        digest.update(part.encode())
    for name in SOURCES + HEADERS:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def build_dir() -> Path:
    """Where this build's objects and library go (created if missing): the user cache, or
    the temporary directory where that is not writable."""
    key = build_key()
    for base in (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"), Path(tempfile.gettempdir())):
        path = base / "spaceport" / "torch_extensions" / key
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return path
    raise RuntimeError(f"no writable directory to build the CPU rasterizer in (tried the user cache and {tempfile.gettempdir()})")


def _ninja_on_path() -> None:
    """torch's builder runs `ninja`; use the one from the `ninja` package if none is on PATH."""
    try:
        import ninja  # the PyPI package ships the binary
    except ImportError:
        return
    os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")


@functools.cache
def load_extension():
    """The compiled module (preprocess, render, backward, sh_colors, sh_colors_backward); built on first use."""
    from torch.utils.cpp_extension import load

    _ninja_on_path()
    here = Path(__file__).parent
    return load(
        name=NAME,
        sources=[str(here / name) for name in SOURCES],
        extra_cflags=CFLAGS,
        extra_ldflags=["-fopenmp"],
        extra_include_paths=[str(here)],
        build_directory=str(build_dir()),
        verbose=False,
    )
