"""The standard 3D Gaussian Splatting PLY: read and write.

One `vertex` element, float32 properties in this order (INRIA's layout, read by every
viewer and converter): `x y z`, `nx ny nz` (unused, zero), `f_dc_0..2` (SH degree-0
colour), `f_rest_0..` (higher SH bands, channel-major: all red coefficients, then green,
then blue; 0, 9, 24 or 45 of them for 0..3 bands), `opacity` (logit), `scale_0..2`
(natural log of the standard deviations, metres), `rot_0..3` (quaternion w, x, y, z, not
necessarily normalized). Values are kept as stored: no activation is applied here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from plyfile import PlyData, PlyElement, PlyParseError

from spaceport.errors import InputError

SH_COEFFS = (0, 3, 8, 15)  # higher-order coefficients per colour channel for 0..3 bands
SH_C0 = 0.28209479177387814  # degree-0 SH basis constant: colour = 0.5 + SH_C0 * f_dc


@dataclass
class Splats:
    """A set of N Gaussians with raw (pre-activation) PLY values, all float32.

    means: (N, 3) metres; scales: (N, 3) log metres; rotations: (N, 4) quaternion w, x, y, z;
    opacities: (N,) logit; sh_dc: (N, 3) f_dc_0..2; sh_rest: (N, 3, K) per channel
    (R, G, B) the K = 0, 3, 8 or 15 higher-order coefficients, in PLY order.
    """

    means: np.ndarray
    scales: np.ndarray
    rotations: np.ndarray
    opacities: np.ndarray
    sh_dc: np.ndarray
    sh_rest: np.ndarray

    def __len__(self) -> int:
        return int(self.means.shape[0])

    @property
    def sh_bands(self) -> int:
        """Spherical-harmonic bands beyond degree 0 (0..3)."""
        return SH_COEFFS.index(self.sh_rest.shape[2])

    def subset(self, keep: np.ndarray) -> Splats:
        """The splats selected by a boolean mask or index array."""
        return Splats(*(getattr(self, name)[keep] for name in FIELDS))

    def with_bands(self, bands: int) -> Splats:
        """A copy limited to `bands` SH bands (never adds bands)."""
        coeffs = SH_COEFFS[min(bands, self.sh_bands)]
        return Splats(self.means, self.scales, self.rotations, self.opacities, self.sh_dc, self.sh_rest[:, :, :coeffs])


FIELDS = ("means", "scales", "rotations", "opacities", "sh_dc", "sh_rest")


def property_names(bands: int) -> list[str]:
    """PLY vertex property names, in file order, for `bands` SH bands."""
    rest = [f"f_rest_{i}" for i in range(3 * SH_COEFFS[bands])]
    return (
        ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
        + rest
        + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    )


REQUIRED = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2"]
REQUIRED += ["rot_0", "rot_1", "rot_2", "rot_3"]


def load_vertices(path: Path, name: str) -> np.ndarray:
    """The `vertex` records of the 3DGS PLY at `path` (binary files memory-mapped, not read).

    Raises InputError naming the file as `name` and what is wrong with it.
    """
    if not path.is_file():
        raise InputError(f"{name}: no such PLY file")
    try:
        data = PlyData.read(str(path))
    except (PlyParseError, ValueError, EOFError, IndexError) as error:
        raise InputError(f"{name}: not a readable PLY file ({error})") from None
    if "vertex" not in data:
        raise InputError(f"{name}: the PLY has no 'vertex' element, so it holds no splats")
    vertex = data["vertex"].data
    names = set(vertex.dtype.names or ())
    missing = [key for key in REQUIRED if key not in names]
    if missing:
        raise InputError(
            f"{name}: not a 3D Gaussian Splatting PLY, the vertex properties {', '.join(missing)} are missing"
        )
    rest_count = sum(1 for key in names if key.startswith("f_rest_"))
    if rest_count not in (3 * c for c in SH_COEFFS) or any(f"f_rest_{i}" not in names for i in range(rest_count)):
        raise InputError(
            f"{name}: {rest_count} f_rest_* properties; a 3DGS PLY has 0, 9, 24 or 45 (SH bands 0..3) numbered from 0"
        )
    if len(vertex) == 0:
        raise InputError(f"{name}: the PLY holds no splats (0 vertices)")
    return vertex


def check_ply(path: Path, name: str | None = None) -> int:
    """Check that `path` is a 3DGS PLY without loading its values; returns its number of splats.

    Errors name the file as `name` (default: the path).
    """
    return len(load_vertices(Path(path), name or str(path)))


def read_ply(path: Path) -> Splats:
    """Read a 3DGS PLY (binary or ASCII). Raises InputError naming what is wrong."""
    vertex = load_vertices(Path(path), str(path))
    rest_count = sum(1 for key in vertex.dtype.names if key.startswith("f_rest_"))

    def columns(*keys: str) -> np.ndarray:
        return np.stack([np.asarray(vertex[key], dtype=np.float32) for key in keys], axis=1)

    coeffs = rest_count // 3
    rest = columns(*[f"f_rest_{i}" for i in range(rest_count)]) if rest_count else np.zeros((len(vertex), 0), np.float32)
    return Splats(
        means=columns("x", "y", "z"),
        scales=columns("scale_0", "scale_1", "scale_2"),
        rotations=columns("rot_0", "rot_1", "rot_2", "rot_3"),
        opacities=np.asarray(vertex["opacity"], dtype=np.float32).copy(),
        sh_dc=columns("f_dc_0", "f_dc_1", "f_dc_2"),
        sh_rest=rest.reshape(len(vertex), 3, coeffs),
    )


def write_ply(path: Path, splats: Splats) -> None:
    """Write `splats` as a binary little-endian 3DGS PLY with its own number of SH bands."""
    n, bands = len(splats), splats.sh_bands
    names = property_names(bands)
    table = np.empty((n, len(names)), dtype="<f4")
    table[:, 0:3] = splats.means
    table[:, 3:6] = 0.0
    table[:, 6:9] = splats.sh_dc
    rest = 3 * SH_COEFFS[bands]
    table[:, 9 : 9 + rest] = splats.sh_rest.reshape(n, rest)
    table[:, 9 + rest] = splats.opacities
    table[:, 10 + rest : 13 + rest] = splats.scales
    table[:, 13 + rest : 17 + rest] = splats.rotations
    records = table.view(np.dtype([(name, "<f4") for name in names])).reshape(n)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    PlyData([PlyElement.describe(records, "vertex")], byte_order="<").write(str(path))
