"""The Gaussian model: raw parameters, their activations, initialization and PLY export.

Raw parameters (all float32, N Gaussians): means (N, 3) world units; log_scales (N, 3);
quats (N, 4) w, x, y, z (normalized when used); opacity_logits (N,); sh0 (N, 1, 3) and
shN (N, 15, 3) spherical-harmonics coefficients (degree 0, and degrees 1..3).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from spaceport.splat.ply import SH_C0, Splats

PARAMETERS = ("means", "log_scales", "quats", "opacity_logits", "sh0", "shN")
INITIAL_OPACITY = 0.1
KNN_CHUNK = 1024


def nearest_neighbour_distance(points: torch.Tensor, k: int = 3) -> torch.Tensor:
    """(N,) mean distance of each of the (N, 3) points to its k nearest others (chunked, O(N^2) time)."""
    k = min(k, len(points) - 1)
    if k <= 0:
        return torch.ones(len(points))
    result = torch.empty(len(points))
    for start in range(0, len(points), KNN_CHUNK):
        distances = torch.cdist(points[start : start + KNN_CHUNK], points)
        nearest = distances.topk(k + 1, largest=False).values[:, 1:]
        result[start : start + KNN_CHUNK] = nearest.mean(dim=1)
    return result


def initial_parameters(points: np.ndarray, colors: np.ndarray, extent: float, max_count: int, seed: int) -> dict[str, torch.Tensor]:
    """Gaussians at the (N, 3) sparse points with their (N, 3) colours in [0, 1]; isotropic
    scales from nearest-neighbour distances. Without points: random ones within the extent."""
    generator = torch.Generator().manual_seed(seed)
    means = torch.from_numpy(points).float()
    rgb = torch.from_numpy(colors).float()
    if len(means) == 0:
        means = (torch.rand(10_000, 3, generator=generator) * 2 - 1) * extent
        rgb = torch.rand(10_000, 3, generator=generator)
    if len(means) > max_count:
        keep = torch.randperm(len(means), generator=generator)[:max_count]
        means, rgb = means[keep], rgb[keep]
    distance = nearest_neighbour_distance(means).clamp(min=1e-7)
    count = len(means)
    quats = torch.zeros(count, 4)
    quats[:, 0] = 1.0
    return {
        "means": means,
        "log_scales": distance.log()[:, None].repeat(1, 3),
        "quats": quats,
        "opacity_logits": torch.full((count,), math.log(INITIAL_OPACITY / (1 - INITIAL_OPACITY))),
        "sh0": ((rgb - 0.5) / SH_C0)[:, None, :],
        "shN": torch.zeros(count, 15, 3),
    }


def activated(params: dict[str, torch.Tensor], sh_degree: int) -> dict[str, torch.Tensor]:
    """Render inputs: scales (N, 3), opacities (N,), quats (N, 4) unit, sh (N, (d+1)^2, 3)."""
    coefficients = (sh_degree + 1) ** 2
    return {
        "means": params["means"],
        "quats": torch.nn.functional.normalize(params["quats"], dim=-1),
        "scales": params["log_scales"].exp(),
        "opacities": params["opacity_logits"].sigmoid(),
        "sh": torch.cat([params["sh0"], params["shN"][:, : coefficients - 1]], dim=1),
    }


def to_splats(params: dict[str, torch.Tensor], sh_degree: int) -> Splats:
    """The PLY view of the model (pre-activation values; SH channel-major, `sh_degree` bands)."""
    coefficients = (sh_degree + 1) ** 2 - 1
    detach = {name: value.detach().cpu() for name, value in params.items()}
    return Splats(
        means=detach["means"].numpy().astype(np.float32),
        scales=detach["log_scales"].numpy().astype(np.float32),
        rotations=torch.nn.functional.normalize(detach["quats"], dim=-1).numpy().astype(np.float32),
        opacities=detach["opacity_logits"].numpy().astype(np.float32),
        sh_dc=detach["sh0"][:, 0, :].numpy().astype(np.float32),
        sh_rest=detach["shN"][:, :coefficients, :].transpose(1, 2).contiguous().numpy().astype(np.float32),
    )
