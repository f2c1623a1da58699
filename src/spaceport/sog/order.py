"""The order of splats in the 2D images: Morton order and a self-organizing sort (PLAS-like).

WebP predicts each pixel from its left and upper neighbours, so an image compresses well
when neighbouring pixels hold similar splats. `morton` sorts splats along a 3D Z-order
curve and fills the image row by row (what splat-transform does). `plas` lays that order
along a 2D Z-order curve instead, so each 2D block holds a 3D neighbourhood, then
refines the layout in the spirit of PLAS (Parallel Linear Assignment Sorting,
Morgenstern et al., ECCV 2024): the image of splat features is blurred with a shrinking
radius, and within random groups of 4 pixels the splats are permuted (best of 24) to
match the blurred image, which pulls similar splats together.

An order is an (N,) int64 array: pixel i (row-major) holds splat order[i].
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from spaceport.progress import Progress
from spaceport.sog.kmeans import one_thread

MORTON_BITS = 21  # per axis: 63-bit codes


def spread_bits(values: np.ndarray, every: int) -> np.ndarray:
    """Spread the low bits of uint64 `values` so bit b lands at bit b * every."""
    values = values.astype(np.uint64)
    out = np.zeros_like(values)
    bits = 64 // every
    for bit in range(bits):
        out |= ((values >> np.uint64(bit)) & np.uint64(1)) << np.uint64(bit * every)
    return out


def morton_order(means: np.ndarray) -> np.ndarray:
    """(N,) order of (N, 3) positions along a 3D Z-order curve over their bounding box."""
    low, high = means.min(axis=0), means.max(axis=0)
    extent = np.where(high > low, high - low, 1.0).astype(np.float64)
    cells = (1 << MORTON_BITS) - 1
    grid = np.clip((means - low) / extent * cells, 0, cells).astype(np.uint64)
    code = spread_bits(grid[:, 0], 3) | (spread_bits(grid[:, 1], 3) << np.uint64(1)) | (spread_bits(grid[:, 2], 3) << np.uint64(2))
    return np.argsort(code, kind="stable")


def zcurve_pixels(rows: int, width: int) -> np.ndarray:
    """Row-major indices of the pixels of a rows x width image, in 2D Z-order."""
    y, x = np.divmod(np.arange(rows * width, dtype=np.uint64), np.uint64(width))
    code = spread_bits(x, 2) | (spread_bits(y, 2) << np.uint64(1))
    return np.argsort(code, kind="stable")


def features(means: np.ndarray, log_scales: np.ndarray, colors: np.ndarray, opacity: np.ndarray) -> np.ndarray:
    """(N, 10) float32 features for sorting: position, colour, log scale, opacity, each group standardized.

    means: (N, 3) m; log_scales: (N, 3); colors: (N, 3) DC coefficients; opacity: (N,) in 0..1.
    Position weighs most: the 16-bit position images are the largest part of a scene.
    """
    groups = [(means, 1.0), (colors, 0.6), (log_scales, 0.4), (opacity[:, None], 0.3)]
    out = []
    for values, weight in groups:
        values = values.astype(np.float64)
        spread = values.std(axis=0).mean()
        out.append((values - values.mean(axis=0)) / (spread if spread > 0 else 1.0) * weight)
    return np.concatenate(out, axis=1).astype(np.float32)


def plas_order(
    feats: np.ndarray, width: int, start: np.ndarray, iterations: int, seed: int, progress: Progress,
    max_radius: int | None = None, zcurve: bool = True,
) -> np.ndarray:
    """Refine the order `start` of (N, D) `feats` on an image `width` pixels wide.

    The full rows are sorted; the splats of the last, partial row keep their place.
    """
    with one_thread():
        return refine(feats, width, start, iterations, seed, progress, max_radius, zcurve)


def refine(
    feats: np.ndarray, width: int, start: np.ndarray, iterations: int, seed: int, progress: Progress,
    max_radius: int | None, zcurve: bool,
) -> np.ndarray:
    """`plas_order` without the thread setting."""
    n = feats.shape[0]
    rows = n // width
    if rows < 2 or width < 2:
        return start
    full = rows * width
    layout = start[:full][np.argsort(zcurve_pixels(rows, width))] if zcurve else start[:full]  # rank -> pixel
    grid_ids = torch.from_numpy(layout.copy())
    grid = torch.from_numpy(feats)[grid_ids]  # (rows * width, D), row-major pixels
    generator = torch.Generator().manual_seed(seed)
    radii = radius_schedule(rows, width, max_radius)
    for step, radius in enumerate(radii):
        for _ in range(iterations):
            target = box_blur(grid.view(rows, width, -1), radius).view(full, -1)
            groups = random_groups(rows, width, max(2, min(2 * radius, rows, width)), generator)
            grid, grid_ids = best_permutations(grid, grid_ids, target, groups)
        progress.raise_if_cancelled()
        progress.update((step + 1) / len(radii), f"plas sort, radius {radius}")
    return np.concatenate([grid_ids.numpy(), start[full:]])


def radius_schedule(rows: int, width: int, max_radius: int | None = None) -> list[int]:
    """Blur radii from a quarter of the image (or max_radius) down to 1, shrinking by half each step."""
    radius, radii = max(1, min(rows, width) // 4), []
    radius = min(radius, max_radius) if max_radius else radius
    while radius > 1:
        radii.append(radius)
        radius //= 2
    return radii + [1]


def box_blur(image: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2 radius + 1)^2 window, clipped at the borders, of a (H, W, D) float32 image."""
    return box_mean_1d(box_mean_1d(image, radius, 0), radius, 1)


def box_mean_1d(values: torch.Tensor, radius: int, dim: int) -> torch.Tensor:
    """Mean over a window of 2 radius + 1 along `dim` (clipped at the ends), by running sums."""
    length = values.shape[dim]
    shape = list(values.shape)
    shape[dim] = 1
    zeros = values.new_zeros(shape)
    padded = torch.cat([zeros, values.cumsum(dim)], dim=dim)  # padded[i] = sum of values[:i]
    index = torch.arange(length)
    upper = torch.clamp(index + radius + 1, max=length)
    lower = torch.clamp(index - radius, min=0)
    total = padded.index_select(dim, upper) - padded.index_select(dim, lower)
    count = (upper - lower).to(values.dtype).view([-1 if d == dim else 1 for d in range(values.dim())])
    return total / count


def random_groups(rows: int, width: int, block: int, generator: torch.Generator) -> torch.Tensor:
    """(G, 4) row-major pixel indices: random groups of 4 pixels inside block x block tiles.

    The tiling is shifted by a random offset; pixels outside whole tiles sit this round out.
    """
    block -= block % 2
    oy = int(torch.randint(0, block, (1,), generator=generator)) if rows > block else 0
    ox = int(torch.randint(0, block, (1,), generator=generator)) if width > block else 0
    ny, nx = (rows - oy) // block, (width - ox) // block
    if ny == 0 or nx == 0:
        oy = ox = 0
        ny, nx = rows // block, width // block
    y = oy + torch.arange(ny * block)
    x = ox + torch.arange(nx * block)
    pixels = (y[:, None] * width + x[None, :]).view(ny, block, nx, block).permute(0, 2, 1, 3).reshape(ny * nx, block * block)
    shuffle = torch.rand(pixels.shape, generator=generator).argsort(dim=1)
    return torch.gather(pixels, 1, shuffle).view(-1, 4)


PERMUTATIONS = torch.tensor(list(itertools.permutations(range(4))))  # (24, 4): element i -> slot perm[i]


def best_permutations(
    grid: torch.Tensor, ids: torch.Tensor, target: torch.Tensor, groups: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Within each group of 4 pixels, move the splats to the permutation closest to `target`.

    grid: (P, D) features per pixel; ids: (P,) splat per pixel; target: (P, D); groups: (G, 4).
    """
    feats = grid[groups]  # (G, 4, D)
    goals = target[groups]
    cost = torch.cdist(feats, goals).square()  # (G, 4 elements, 4 slots)
    slot_cost = cost[:, torch.arange(4)[None, :], PERMUTATIONS]  # (G, 24, 4)
    best = PERMUTATIONS[slot_cost.sum(dim=2).argmin(dim=1)]  # (G, 4)
    destination = torch.gather(groups, 1, best)  # pixel each element moves to
    grid = grid.clone()
    ids = ids.clone()
    grid[destination.reshape(-1)] = feats.reshape(-1, grid.shape[1])
    ids[destination.reshape(-1)] = ids[groups].reshape(-1)
    return grid, ids
