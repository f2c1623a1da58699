"""One functional entry point over the rasterizer backends: gsplat (CUDA), ours (CPU), reference."""

from __future__ import annotations

import functools
from typing import Literal

import torch


Backend = Literal["auto", "cpu", "cuda", "reference"]
BACKENDS = ("auto", "cpu", "cuda", "reference")


@functools.cache
def gsplat_available() -> bool:
    """True when a CUDA device is usable and gsplat (the `cuda` extra) imports."""
    if not torch.cuda.is_available():
        return False
    try:
        import gsplat  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str) -> str:
    """The concrete backend for `backend`: "auto" is "cuda" where gsplat can run, else "cpu"."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown rasterizer backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "cuda" if gsplat_available() else "cpu"
    return backend


def _check_inputs(means, quats, scales, opacities, colors_or_sh, viewmat, K, width, height, sh_degree) -> None:
    """Raises ValueError naming the first argument whose shape is wrong."""
    n = means.shape[0] if means.dim() == 2 else -1
    expected = {"means": (means, (n, 3)), "quats": (quats, (n, 4)), "scales": (scales, (n, 3))}
    expected |= {"opacities": (opacities, (n,)), "viewmat": (viewmat, (4, 4)), "K": (K, (3, 3))}
    for name, (tensor, shape) in expected.items():
        if tuple(tensor.shape) != shape:
            raise ValueError(f"{name} must have shape {shape} (N = len(means)), got {tuple(tensor.shape)}")
    if sh_degree is None and tuple(colors_or_sh.shape) != (n, 3):
        raise ValueError(f"colors must have shape ({n}, 3) without sh_degree, got {tuple(colors_or_sh.shape)}")
    if sh_degree is not None and (colors_or_sh.dim() != 3 or colors_or_sh.shape[0] != n):
        raise ValueError(f"SH coefficients must have shape ({n}, K, 3), got {tuple(colors_or_sh.shape)}")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")


def _rasterize_gsplat(means, quats, scales, opacities, colors_or_sh, viewmat, K, width, height, sh_degree, background):
    """gsplat 1.5.3's `rasterization` on the CUDA device (classic mode, default culling)."""
    from gsplat import rasterization

    device = means.device if means.is_cuda else torch.device("cuda")
    to = functools.partial(torch.Tensor.to, device=device)
    image, alpha, meta = rasterization(
        to(means), to(quats), to(scales), to(opacities), to(colors_or_sh),
        to(viewmat)[None], to(K)[None], width, height,
        sh_degree=sh_degree, backgrounds=None if background is None else to(background)[None],
        packed=False, rasterize_mode="classic",
    )  # fmt: skip
    info = {"means2d": meta["means2d"], "radii": meta["radii"][0], "depths": meta["depths"][0]}
    return image[0], alpha[0], info


def rasterize(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    colors_or_sh: torch.Tensor,
    viewmat: torch.Tensor,
    K: torch.Tensor,
    width: int,
    height: int,
    sh_degree: int | None = None,
    background: torch.Tensor | None = None,
    backend: Backend = "auto",
    return_info: bool = False,
):
    """Render N 3D Gaussians into one pinhole camera; differentiable w.r.t. the Gaussians.

    Args:
        means: (N, 3) centres, world units.
        quats: (N, 4) rotations as quaternions w, x, y, z (normalized inside).
        scales: (N, 3) standard deviations along the rotated axes (activated, world units).
        opacities: (N,) activated opacities in [0, 1].
        colors_or_sh: (N, 3) RGB colours, or (N, K, 3) SH coefficients when `sh_degree` is
            given (K >= (sh_degree + 1)^2; colour = SH . basis(view direction) + 0.5, >= 0).
        viewmat: (4, 4) world->camera transform (OpenCV/COLMAP: x right, y down, z forward).
        K: (3, 3) intrinsics in pixels (fx, fy, cx, cy; pixel centres at integer + 0.5).
        width, height: image size in pixels.
        sh_degree: SH degree 0..3 to evaluate, or None when colours are given.
        background: (3,) colour behind the Gaussians, or None for black.
        backend: "cuda" (gsplat 1.5.3, needs a GPU and the `cuda` extra), "cpu" (our compiled
            kernels), "reference" (plain PyTorch, slow, for tests) or "auto" (cuda where
            available, else cpu).
        return_info: also return a dict of per-Gaussian screen-space data (for densification).

    Returns:
        image (H, W, 3) and alpha (H, W, 1) = 1 - transmittance, on the backend's device;
        with `return_info`, also info: "radii" (N, 2) int32 px box half-sizes (0: culled),
        "depths" (N,) camera z, and "means2d", the projected centres as a tensor of the
        autograd graph, (N, 2) px, or (1, N, 2) on cuda (gsplat's camera axis): call
        `info["means2d"].retain_grad()` before backward to read the screen-space gradients.
    """
    _check_inputs(means, quats, scales, opacities, colors_or_sh, viewmat, K, width, height, sh_degree)
    chosen = resolve_backend(backend)
    args = (means, quats, scales, opacities, colors_or_sh, viewmat, K, width, height, sh_degree, background)
    if chosen == "cuda":
        image, alpha, info = _rasterize_gsplat(*args)
    elif chosen == "reference":
        from spaceport.splat.reference import rasterize_reference

        image, alpha, info = rasterize_reference(*args)
    else:
        image, alpha, info = _rasterize_cpu(*args)
    return (image, alpha, info) if return_info else (image, alpha)


def _rasterize_cpu(means, quats, scales, opacities, colors_or_sh, viewmat, K, width, height, sh_degree, background):
    """Our compiled kernels, with SH evaluated by them too."""
    from spaceport.splat.cpu import rasterize_cpu, sh_colors_cpu

    colors = colors_or_sh if sh_degree is None else sh_colors_cpu(colors_or_sh, means, viewmat, sh_degree)
    return rasterize_cpu(means, quats, scales, opacities, colors, viewmat, K, width, height, background)
