"""Splats -> SOG v2 images and meta.json (PlayCanvas's format, version 2).

Every per-splat image is W x H RGBA, W = ceil(sqrt(N) / 4) * 4 and H = ceil(N / W / 4) * 4
(multiples of 4); pixel i in row-major order holds splat order[i], trailing pixels are
zero. What each image holds:

- means_l / means_u: low / high byte of x, y, z as 16-bit fractions between per-axis mins
  and maxs of l(v) = sign(v) ln(|v| + 1) (mins/maxs in meta are in that log space).
- quats: the three smallest components of the unit quaternion (w, x, y, z), sign chosen so
  the largest is positive, times sqrt(2), mapped -1..1 -> 0..255; alpha = 252 + index of
  the largest component.
- scales: R, G, B index a 256-entry sorted codebook of log scales, entries denser towards
  large splats (SCALE_SIZE_POWER; on a trained Brighton scene the render PSNR of
  scales-only quantization rose from 41 to 57 dB, docs/sog.md).
- sh0: R, G, B index a codebook of f_dc values; alpha = 255 sigmoid(opacity).
  (Codebooks: see `codebook`; DC colour spreads its entries evenly, COLOR_DENSITY_POWER.)
- shN_labels: R = low byte, G = high byte of the splat's SH palette entry.
- shN_centroids: 64 entries per row, `coeffs` pixels per entry; pixel j of an entry holds
  coefficient j of R, G, B as indices into a codebook of SH values.
"""

from __future__ import annotations

import json
import math

import numpy as np

from spaceport import __version__
from spaceport.sog import codebook
from spaceport.splat.ply import SH_COEFFS

SQRT2 = math.sqrt(2.0)
COLOR_DENSITY_POWER = 0.0  # DC colour codebook: entries evenly over the range (see codebook)
SCALE_SIZE_POWER = 1.0  # scale codebook: bins also weigh exp(log scale) (see codebook.fit)


def image_size(count: int) -> tuple[int, int]:
    """(width, height) of the per-splat images for `count` splats, both multiples of 4."""
    width = max(4, math.ceil(math.sqrt(count) / 4) * 4)
    height = max(4, math.ceil(count / width / 4) * 4)
    return width, height


def to_image(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """(height, width, 4) uint8 image from (N, 4) per-splat pixels, zero after the last."""
    image = np.zeros((width * height, 4), np.uint8)
    image[: pixels.shape[0]] = pixels
    return image.reshape(height, width, 4)


def log_transform(values: np.ndarray) -> np.ndarray:
    """sign(v) ln(|v| + 1), float64."""
    values = values.astype(np.float64)
    return np.sign(values) * np.log1p(np.abs(values))


def encode_means(means: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[float], list[float]]:
    """(low (N, 4), high (N, 4) uint8 pixels, mins, maxs) of (N, 3) positions in metres."""
    logged = log_transform(means)
    mins, maxs = logged.min(axis=0), logged.max(axis=0)
    span = np.where(maxs > mins, maxs - mins, 1.0)
    q = np.clip(np.rint((logged - mins) / span * 65535.0), 0, 65535).astype(np.uint32)
    low = np.full((means.shape[0], 4), 255, np.uint8)
    high = np.full((means.shape[0], 4), 255, np.uint8)
    low[:, :3] = q & 0xFF
    high[:, :3] = q >> 8
    return low, high, [float(v) for v in mins], [float(v) for v in maxs]


def encode_quats(rotations: np.ndarray) -> np.ndarray:
    """(N, 4) uint8 smallest-three pixels of (N, 4) quaternions w, x, y, z (non-zero norm)."""
    q = rotations.astype(np.float64)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    largest = np.abs(q).argmax(axis=1)
    rows = np.arange(q.shape[0])
    q *= np.where(q[rows, largest] < 0, -1.0, 1.0)[:, None] * SQRT2
    keep = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])[largest]  # (N, 3) components stored
    small = np.take_along_axis(q, keep, axis=1)
    pixels = np.empty((q.shape[0], 4), np.uint8)
    pixels[:, :3] = np.clip(np.rint((small * 0.5 + 0.5) * 255.0), 0, 255)
    pixels[:, 3] = 252 + largest
    return pixels


def encode_codebook_rgb(
    values: np.ndarray,
    alpha: np.ndarray | None = None,
    density_power: float = codebook.DENSITY_POWER,
    size_power: float = 0.0,
) -> tuple[np.ndarray, list[float]]:
    """((N, 4) uint8 pixels, codebook) for (N, 3) values sharing one 256-entry codebook (see `codebook.fit`)."""
    book, labels = codebook.encode(values, density_power=density_power, size_power=size_power)
    pixels = np.empty((values.shape[0], 4), np.uint8)
    pixels[:, :3] = labels
    pixels[:, 3] = 255 if alpha is None else alpha
    return pixels, [float(v) for v in book]


def opacity_byte(opacities: np.ndarray) -> np.ndarray:
    """(N,) uint8 255 sigmoid(opacity) of logit opacities."""
    activated = 1.0 / (1.0 + np.exp(-opacities.astype(np.float64)))
    return np.clip(np.rint(activated * 255.0), 0, 255).astype(np.uint8)


def encode_labels(labels: np.ndarray) -> np.ndarray:
    """(N, 4) uint8 pixels of (N,) palette labels < 65536: R low byte, G high byte."""
    pixels = np.zeros((labels.shape[0], 4), np.uint8)
    pixels[:, 0] = labels & 0xFF
    pixels[:, 1] = labels >> 8
    pixels[:, 3] = 255
    return pixels


def encode_centroids(centres: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """(image (ceil(K / 64), 64 coeffs, 4) uint8, codebook) of (K, 3, coeffs) SH palette entries."""
    k, _, coeffs = centres.shape
    book, labels = codebook.encode(centres)
    rows = math.ceil(k / 64)
    image = np.zeros((rows * 64, coeffs, 4), np.uint8)
    image[:k, :, :3] = labels.transpose(0, 2, 1)  # (K, coeffs, channel)
    image[:k, :, 3] = 255
    return image.reshape(rows, 64 * coeffs, 4), [float(v) for v in book]


def meta_json(count: int, means_range: tuple[list[float], list[float]], books: dict, shn: dict | None) -> bytes:
    """meta.json bytes of a version-2 scene."""
    meta = {
        "version": 2,
        "asset": {"generator": f"spaceport v{__version__}"},
        "count": count,
        "means": {"mins": means_range[0], "maxs": means_range[1], "files": ["means_l.webp", "means_u.webp"]},
        "scales": {"codebook": books["scales"], "files": ["scales.webp"]},
        "quats": {"files": ["quats.webp"]},
        "sh0": {"codebook": books["sh0"], "files": ["sh0.webp"]},
    }
    if shn is not None:
        meta["shN"] = shn
    return json.dumps(meta, separators=(",", ":")).encode()


def shn_meta(count: int, bands: int, book: list[float]) -> dict:
    """The meta.json `shN` entry."""
    assert SH_COEFFS[bands] > 0
    return {"count": count, "bands": bands, "codebook": book, "files": ["shN_centroids.webp", "shN_labels.webp"]}
