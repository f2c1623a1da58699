"""SH palette: k-means of the higher-order SH coefficients, fast on a CPU.

Two levels. A coarse k-means with about sqrt(k) centres splits the points; each coarse
cell then gets its own fine k-means with a share of the k entries proportional to its
point count. A full k-means compares every point with all k centres (1M points x 65,536
centres x 45 values is 3 TFLOP per iteration); the two levels compare each point with
about 2 sqrt(k) centres, so 1M splats with degree-3 SH take seconds per iteration.
Distances use one matrix product (|x|^2 - 2 x.c + |c|^2) on torch in float32.

Labels come out grouped: the entries of one coarse cell are contiguous, and the coarse
cells are ordered along the first principal axis of their centres, so neighbouring
splats with similar SH get similar labels and the label image compresses better.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch

from spaceport.progress import Progress

PALETTE_SHARE = 4  # automatic palette: 1/4 of splat-transform's size (see palette_size)
COARSE_SAMPLE = 200_000  # points the coarse level trains on
CHUNK = 65_536  # points per distance block (bounds memory: CHUNK x centres floats)


def palette_size(count: int) -> int:
    """Automatic palette size: a quarter of splat-transform's 1024 x 2^floor(log2(count / 1024))
    (capped at 65,536), so 16,384 from 256k splats up, but at least min(count, 1024) so small
    scenes keep their SH exactly.

    Measured with bench/sog_quality.py: a quarter of the entries cost 0.6 dB of PSNR against
    the uncompressed render (51.9 -> 51.3 dB on a trained 60k scene, 42.5 -> 41.9 dB on a
    synthetic 1M scene with degree-3 SH, both far above splat-transform's 47.0 dB on the
    former) and made the files 13-20 % smaller.
    """
    if count <= 0:
        return 0
    grown = int(min(64.0, 2.0 ** np.floor(np.log2(count / 1024))) * 1024) // PALETTE_SHARE
    return max(grown, min(count, 1024))


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block.

    Our operations are many and small; on a shared 2-core machine torch's second thread
    mostly waits for the other core, which made them 5x slower in our measurements.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def palette(points: np.ndarray, k: int, iterations: int, seed: int, progress: Progress) -> tuple[np.ndarray, np.ndarray]:
    """Cluster (N, D) float32 `points` into at most `k` centres.

    Returns (centres (k', D) float32 with k' <= k, labels (N,) int64 in [0, k')).
    With N <= k every point is its own centre.
    """
    with one_thread():
        return cluster(points, k, iterations, seed, progress)


def cluster(points: np.ndarray, k: int, iterations: int, seed: int, progress: Progress) -> tuple[np.ndarray, np.ndarray]:
    """`palette` without the thread setting."""
    n = points.shape[0]
    data = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32))
    if n <= k:
        return points.astype(np.float32).copy(), np.arange(n, dtype=np.int64)
    generator = torch.Generator().manual_seed(seed)
    coarse_k = max(1, min(int(round(np.sqrt(k))), k))
    sample = data[torch.randperm(n, generator=generator)[: min(n, COARSE_SAMPLE)]]
    coarse = lloyd(sample, coarse_k, iterations, generator)
    coarse = coarse[principal_order(coarse)]
    coarse_labels = nearest(data, coarse)
    progress.update(0.2, "SH palette: coarse cells")

    counts = torch.bincount(coarse_labels, minlength=coarse_k).numpy()
    shares = split_entries(counts, k)
    order = torch.argsort(coarse_labels, stable=True)
    starts = np.concatenate([[0], np.cumsum(counts)])
    centres, labels = [], torch.empty(n, dtype=torch.int64)
    offset = 0
    for cell in range(coarse_k):
        if counts[cell] == 0:
            continue
        members = order[starts[cell] : starts[cell + 1]]
        cell_centres = lloyd(data[members], int(shares[cell]), iterations, generator)
        labels[members] = nearest(data[members], cell_centres) + offset
        centres.append(cell_centres)
        offset += cell_centres.shape[0]
        if cell % 16 == 0:
            progress.raise_if_cancelled()
            progress.update(0.2 + 0.8 * cell / coarse_k, "SH palette: fine cells")
    return torch.cat(centres).numpy(), labels.numpy()


def split_entries(counts: np.ndarray, k: int) -> np.ndarray:
    """Entries per cell: proportional to its count, at least 1 where it has points, at most its count."""
    counts = counts.astype(np.int64)
    exact = counts / counts.sum() * k
    shares = np.minimum(np.floor(exact).astype(np.int64), counts)
    shares[(counts > 0) & (shares == 0)] = 1
    spare = k - shares.sum()
    if spare > 0:  # largest remainders first, where a cell still has more points than entries
        for cell in np.argsort(-(exact - np.floor(exact))):
            if spare == 0:
                break
            if shares[cell] < counts[cell]:
                shares[cell] += 1
                spare -= 1
    while spare < 0:  # too many cells forced to 1: take back from the largest shares
        cell = int(np.argmax(shares))
        shares[cell] -= 1
        spare += 1
    return shares


def lloyd(points: torch.Tensor, k: int, iterations: int, generator: torch.Generator) -> torch.Tensor:
    """k-means of (n, D) points from k random distinct points; returns (k', D) centres.

    With at most k distinct points, those points are the centres (k' <= k).
    """
    n = points.shape[0]
    distinct = torch.unique(points, dim=0)
    if distinct.shape[0] <= k:
        return distinct
    centres = distinct[torch.randperm(distinct.shape[0], generator=generator)[:k]].clone()
    for _ in range(iterations):
        labels = nearest(points, centres)
        counts = torch.bincount(labels, minlength=k)
        sums = torch.zeros_like(centres).index_add_(0, labels, points)
        empty = counts == 0
        centres = torch.where(empty[:, None], centres, sums / counts.clamp(min=1)[:, None].to(points.dtype))
        if bool(empty.any()):  # re-seed empty centres at random points
            picks = torch.randint(0, n, (int(empty.sum()),), generator=generator)
            centres[empty] = points[picks]
    return centres


def nearest(points: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centre (squared Euclidean) for each of the (n, D) points."""
    half_norms = 0.5 * (centres * centres).sum(dim=1)
    out = torch.empty(points.shape[0], dtype=torch.int64)
    for start in range(0, points.shape[0], CHUNK):
        block = points[start : start + CHUNK]
        scores = torch.addmm(half_norms, block, centres.T, beta=1.0, alpha=-1.0)  # 0.5|c|^2 - x.c
        out[start : start + CHUNK] = scores.argmin(dim=1)
    return out


def principal_order(centres: torch.Tensor) -> torch.Tensor:
    """Order of the centres along their first principal axis."""
    if centres.shape[0] < 3:
        return torch.arange(centres.shape[0])
    centred = centres - centres.mean(dim=0)
    _, _, v = torch.linalg.svd(centred.double(), full_matrices=False)
    return torch.argsort(centred.double() @ v[0])
