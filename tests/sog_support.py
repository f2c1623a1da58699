"""Synthetic splat scenes and the splat-transform command, for the SOG tests and benchmark."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from spaceport.splat.ply import SH_COEFFS, Splats

ROOT = Path(__file__).resolve().parents[1]
SPLAT_TRANSFORM = ROOT / "tools" / "node" / "node_modules" / "@playcanvas" / "splat-transform" / "bin" / "cli.mjs"


def synthetic_splats(n: int, bands: int = 3, seed: int = 0, extent_m: float = 10.0) -> Splats:
    """n splats in clumps over a scene `extent_m` across, with random attributes.

    Positions: clusters of ~500 splats; log scales around -4; quaternions random (not
    unit length); opacity logits N(0, 2); DC N(0, 1); higher SH N(0, 0.2).
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-0.5, 0.5, size=(max(1, n // 500), 3)) * extent_m
    means = centres[rng.integers(0, len(centres), n)] + rng.normal(size=(n, 3)) * extent_m * 0.01
    return Splats(
        means=means.astype(np.float32),
        scales=(rng.normal(size=(n, 3)) - 4.0).astype(np.float32),
        rotations=rng.normal(size=(n, 4)).astype(np.float32),
        opacities=(rng.normal(size=n) * 2.0).astype(np.float32),
        sh_dc=rng.normal(size=(n, 3)).astype(np.float32),
        sh_rest=(rng.normal(size=(n, 3, SH_COEFFS[bands])) * 0.2).astype(np.float32),
    )


def splat_transform(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run PlayCanvas splat-transform (pinned in tools/node) with node on the CPU path."""
    node = shutil.which("node")
    if node is None or not SPLAT_TRANSFORM.is_file():
        raise RuntimeError(f"splat-transform needs node and {SPLAT_TRANSFORM}; run `make test` (it installs them)")
    command = [node, str(SPLAT_TRANSFORM), "-q", "-w", "-g", "cpu", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"splat-transform failed ({result.returncode}): {result.stderr[-2000:]}")
    return result
