"""SOG v2 (bundled, folder or meta.json) -> Splats, the inverse of `encode`.

Follows the format as PlayCanvas's readers do: a quaternion tag outside 252..255 reads
as the identity, a palette label >= shN.count reads as zero SH.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from spaceport.errors import InputError
from spaceport.sog.container import decode_webp, read_files
from spaceport.splat.ply import SH_COEFFS, Splats

KEEP = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])


def read_sog(path: Path) -> Splats:
    """Decode the SOG scene at `path` into splats, in pixel order."""
    meta, files = read_files(path)
    count = int(meta.get("count", -1))
    if count < 0:
        raise InputError(f"{path}: meta.json has no splat count")

    def pixels(entry: str, index: int = 0) -> np.ndarray:
        name = meta[entry]["files"][index]
        image = decode_webp(files[name], name).reshape(-1, 4)
        if image.shape[0] < count:
            raise InputError(f"{path}: {name} has {image.shape[0]} pixels, fewer than the {count} splats of meta.json")
        return image[:count]

    means = decode_means(pixels("means", 0), pixels("means", 1), meta["means"]["mins"], meta["means"]["maxs"])
    rotations = decode_quats(pixels("quats"))
    scales = np.asarray(meta["scales"]["codebook"], np.float32)[pixels("scales")[:, :3]]
    sh0 = pixels("sh0")
    sh_dc = np.asarray(meta["sh0"]["codebook"], np.float32)[sh0[:, :3]]
    opacities = logit(sh0[:, 3].astype(np.float64) / 255.0).astype(np.float32)
    sh_rest = np.zeros((count, 3, 0), np.float32)
    shn = meta.get("shN")
    if shn and SH_COEFFS[int(shn.get("bands", 0))] > 0:
        sh_rest = decode_sh_rest(pixels("shN", 1), files[shn["files"][0]], shn, count, path)
    return Splats(means, scales, rotations, opacities, sh_dc, sh_rest)


def decode_means(low: np.ndarray, high: np.ndarray, mins: list[float], maxs: list[float]) -> np.ndarray:
    """(N, 3) float32 positions from (N, 4) low/high byte pixels and the log-space range."""
    q = low[:, :3].astype(np.float64) + 256.0 * high[:, :3]
    mins_ = np.asarray(mins, np.float64)
    span = np.asarray(maxs, np.float64) - mins_
    span = np.where(span != 0, span, 1.0)
    logged = mins_ + span * (q / 65535.0)
    return (np.sign(logged) * np.expm1(np.abs(logged))).astype(np.float32)


def decode_quats(pixels: np.ndarray) -> np.ndarray:
    """(N, 4) float32 unit quaternions w, x, y, z from smallest-three pixels."""
    n = pixels.shape[0]
    tag = pixels[:, 3].astype(np.int64)
    valid = (tag >= 252) & (tag <= 255)
    largest = np.where(valid, tag - 252, 0)
    small = (pixels[:, :3].astype(np.float64) / 255.0 * 2.0 - 1.0) / math.sqrt(2.0)
    q = np.zeros((n, 4), np.float64)
    np.put_along_axis(q, KEEP[largest], small, axis=1)
    q[np.arange(n), largest] = np.sqrt(np.maximum(0.0, 1.0 - (small * small).sum(axis=1)))
    q[~valid] = (1.0, 0.0, 0.0, 0.0)
    return q.astype(np.float32)


def decode_sh_rest(labels_px: np.ndarray, centroid_bytes: bytes, shn: dict, count: int, path: Path) -> np.ndarray:
    """(N, 3, coeffs) float32 higher-order SH from the label pixels and the palette image."""
    bands = int(shn["bands"])
    coeffs = SH_COEFFS[bands]
    name = shn["files"][0]
    image = decode_webp(centroid_bytes, name)
    if image.shape[1] != 64 * coeffs:
        raise InputError(f"{path}: {name} is {image.shape[1]} px wide, not 64 x {coeffs} for {bands} SH bands")
    book = np.asarray(shn["codebook"], np.float32)
    entries = image.reshape(-1, coeffs, 4)[:, :, :3]  # (rows * 64, coeffs, channel)
    palette = book[entries].transpose(0, 2, 1)  # (entries, channel, coeffs)
    labels = labels_px[:, 0].astype(np.int64) | (labels_px[:, 1].astype(np.int64) << 8)
    valid = labels < min(int(shn.get("count", palette.shape[0])), palette.shape[0])
    out = np.zeros((count, 3, coeffs), np.float32)
    out[valid] = palette[labels[valid]]
    return out


def logit(p: np.ndarray) -> np.ndarray:
    """ln(p / (1 - p)) with p clamped to [1e-6, 1 - 1e-6], as PlayCanvas's reader does."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))
