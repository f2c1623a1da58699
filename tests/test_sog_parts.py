"""Parts of the SOG encoder: ordering and the SH palette k-means."""

from __future__ import annotations

import numpy as np

from spaceport.progress import Progress
from spaceport.sog import codebook, encode, kmeans, order


def neighbour_cost(feats: np.ndarray, ids: np.ndarray, width: int) -> float:
    """Mean squared feature difference between horizontally and vertically adjacent pixels."""
    rows = len(ids) // width
    grid = feats[ids[: rows * width]].reshape(rows, width, -1)
    return float(((grid[:, 1:] - grid[:, :-1]) ** 2).sum(-1).mean() + ((grid[1:] - grid[:-1]) ** 2).sum(-1).mean())


def test_morton_order_is_a_permutation_that_keeps_neighbours_close():
    rng = np.random.default_rng(0)
    means = rng.uniform(-5, 5, size=(20000, 3)).astype(np.float32)
    ids = order.morton_order(means)
    assert np.array_equal(np.sort(ids), np.arange(20000))
    step = np.linalg.norm(np.diff(means[ids], axis=0), axis=1).mean()
    assert step < 0.2 * np.linalg.norm(np.diff(means, axis=0), axis=1).mean()


def test_plas_improves_two_dimensional_neighbourhoods():
    rng = np.random.default_rng(1)
    n, width = 64 * 64 + 37, 64
    feats = order.features(
        rng.uniform(-5, 5, (n, 3)), rng.normal(size=(n, 3)) - 4, rng.normal(size=(n, 3)), rng.random(n)
    )
    start = order.morton_order(feats[:, :3])
    sorted_ids = order.plas_order(feats, width, start, 4, 0, Progress())
    assert np.array_equal(np.sort(sorted_ids), np.arange(n))
    assert np.array_equal(sorted_ids[64 * 64 :], start[64 * 64 :])  # the partial last row keeps its place
    assert neighbour_cost(feats, sorted_ids, width) < 0.7 * neighbour_cost(feats, start, width)


def test_box_blur_matches_a_direct_mean():
    import torch

    image = torch.rand(9, 11, 2)
    blurred = order.box_blur(image, 2)
    expected = image[max(0, 4 - 2) : 4 + 3, max(0, 0 - 2) : 0 + 3].mean(dim=(0, 1))
    assert torch.allclose(blurred[4, 0], expected, atol=1e-6)


def test_palette_finds_clusters_and_respects_its_size():
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(300, 45)).astype(np.float32)
    points = centres[rng.integers(0, 300, 30000)] + rng.normal(size=(30000, 45)).astype(np.float32) * 0.01
    palette, labels = kmeans.palette(points, 1024, 8, 0, Progress())
    assert palette.shape[0] <= 1024 and labels.max() < palette.shape[0]
    rms = np.sqrt(((palette[labels] - points) ** 2).mean())
    assert rms < 0.1 * np.sqrt((points**2).mean())


def test_split_entries_sums_to_k():
    shares = kmeans.split_entries(np.array([0, 1, 5, 1000, 3]), 50)
    assert shares.sum() == 50 and shares[0] == 0 and shares[1] == 1 and shares[2] <= 5


def test_palette_size_follows_splat_count():
    assert kmeans.palette_size(1_000_000) == 16384
    assert kmeans.palette_size(50_000) == 8192
    assert kmeans.palette_size(1500) == 1024
    assert kmeans.palette_size(500) == 500


def test_scale_codebook_keeps_large_splats_precise():
    """A trained scene: many small splats and a few very large ones (sky, sea). A large
    splat covers thousands of pixels, so its size must survive quantization within 7 %,
    where a codebook blind to size leaves it > 20 % off; small splats keep the precision
    they had without the size weighting, and the range is never clipped."""
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(-4.0, 1.2, 300_000), rng.uniform(2.0, 4.0, 300)]).reshape(-1, 3)

    def errors(size_power: float) -> tuple[float, float, np.ndarray]:
        book, labels = codebook.encode(values, size_power=size_power)
        error = np.abs(book[labels.astype(np.int64)] - values)
        return error[values > 2.0].max(), error[values < 0.0].max(), book

    blind_large, blind_small, _ = errors(0.0)
    large, small, book = errors(encode.SCALE_SIZE_POWER)
    assert blind_large > np.log(1.2) and large < np.log(1.07)
    assert small <= blind_small + 0.01
    assert book[0] == np.float32(values.min()) and book[-1] == np.float32(values.max())
