"""256-entry sorted 1D codebooks (scales, DC colour, SH values) and nearest-entry labels.

The values are pooled into one histogram whose bins sit at a blend of quantile and
uniform positions, so both the dense middle and the long tails (large scales, saturated
colours) get entries. Lloyd's algorithm then runs on the bin centres with weights
count ** 0.5: sub-linear, so rare tail values still pull entries towards them. Working
on at most `BINS` weighted points keeps this fast for any number of values.
"""

from __future__ import annotations

import numpy as np

ENTRIES = 256
BINS = 8192
LLOYD_STEPS = 60
DENSITY_POWER = 0.5


def fit(values: np.ndarray, entries: int = ENTRIES) -> np.ndarray:
    """A sorted (entries,) float32 codebook for the finite `values` (any shape).

    Fewer distinct values than entries: the codebook holds them all, padded with the last.
    """
    flat = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if flat.size == 0:
        return np.zeros(entries, np.float32)
    distinct = np.unique(flat)
    if distinct.size <= entries:
        return pad(distinct, entries)
    centres, weights = histogram(flat)
    codebook = lloyd(centres, weights, initial(centres, weights, entries))
    return pad(np.unique(codebook), entries)


def histogram(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centres, weights) of up to BINS bins over sorted values; empty bins removed."""
    n = sorted_values.size
    low, high = sorted_values[0], sorted_values[-1]
    uniform = (sorted_values - low) / (high - low)
    quantile = np.arange(n) / n
    q1, q3 = sorted_values[int(n * 0.25)], sorted_values[int(n * 0.75)]
    blend = np.clip(1.0 - (q3 - q1) / (high - low), 0.5, 0.99)  # heavy tails lean on quantiles
    bins = min(BINS, n)
    index = np.minimum((bins * (blend * quantile + (1 - blend) * uniform)).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins).astype(np.float64)
    sums = np.bincount(index, weights=sorted_values, minlength=bins)
    used = counts > 0
    return sums[used] / counts[used], counts[used] ** DENSITY_POWER


def initial(centres: np.ndarray, weights: np.ndarray, entries: int) -> np.ndarray:
    """Start entries at equal steps of cumulative weight."""
    cumulative = np.cumsum(weights)
    targets = (np.arange(entries) + 0.5) / entries * cumulative[-1]
    return centres[np.minimum(np.searchsorted(cumulative, targets), centres.size - 1)]


def lloyd(centres: np.ndarray, weights: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Weighted 1D k-means of the bin centres, started from `codebook` (sorted)."""
    codebook = np.sort(codebook)
    for _ in range(LLOYD_STEPS):
        labels = assign(centres, codebook)
        total = np.bincount(labels, weights=weights, minlength=codebook.size)
        moved = np.bincount(labels, weights=weights * centres, minlength=codebook.size)
        updated = np.where(total > 0, moved / np.maximum(total, 1e-300), codebook)
        updated.sort()
        if np.allclose(updated, codebook, rtol=0, atol=1e-9 * (centres[-1] - centres[0])):
            return updated
        codebook = updated
    return codebook


def pad(values: np.ndarray, entries: int) -> np.ndarray:
    """`values` (sorted, at most `entries`) padded with the last value, as float32."""
    out = np.full(entries, values[-1], dtype=np.float64)
    out[: values.size] = values
    return out.astype(np.float32)


def assign(values: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Index of the nearest entry of a sorted codebook for each value; same shape, int64."""
    codebook = np.asarray(codebook, dtype=np.float64)
    midpoints = (codebook[1:] + codebook[:-1]) * 0.5
    return np.searchsorted(midpoints, np.asarray(values, dtype=np.float64), side="right")


def encode(values: np.ndarray, entries: int = ENTRIES) -> tuple[np.ndarray, np.ndarray]:
    """(codebook (entries,) float32, labels uint8 of values' shape) for `values`."""
    codebook = fit(values, entries)
    return codebook, assign(values, codebook).astype(np.uint8)
