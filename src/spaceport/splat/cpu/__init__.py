"""Our compiled CPU rasterizer: tile-based projection, binning, compositing and backward.

`rasterize_cpu` is differentiable w.r.t. means, quats, scales, opacities, colors and the
background; the kernels (C++ / OpenMP, float32) are built on first use (see `build`).
"""

from __future__ import annotations

import torch

from spaceport.splat import conventions as cv
from spaceport.splat.cpu.build import load_extension
from spaceport.splat.sh import camera_center, num_sh_bases

SETTINGS = [
    cv.NEAR_PLANE,
    cv.FAR_PLANE,
    cv.EPS2D,
    cv.FOV_CLAMP,
    cv.EXTENT_SIGMAS,
    cv.ALPHA_MIN,
    cv.ALPHA_MAX,
    cv.TRANSMITTANCE_MIN,
    float(cv.TILE_SIZE),
]


def _settings() -> list[float]:
    """The constants the kernels take, plus the thread count (torch's intra-op setting)."""
    return SETTINGS + [float(torch.get_num_threads())]


def _f32(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(device="cpu", dtype=torch.float32).contiguous()


class _ProjectCPU(torch.autograd.Function):
    """means2d (N, 2), conics (N, 3), depths (N,), radii (N, 2) int32; see `project_cpu`."""

    @staticmethod
    def forward(ctx, means, quats, scales, opacities, viewmat, K, width, height):
        inputs = [_f32(t) for t in (means, quats, scales, opacities)]
        cam = (_f32(viewmat), _f32(K), int(width), int(height))
        means2d, conics, depths, radii = load_extension().project(*inputs, *cam, _settings())
        ctx.cam = cam
        ctx.save_for_backward(*inputs[:3], radii)
        ctx.mark_non_differentiable(depths, radii)
        return means2d, conics, depths, radii

    @staticmethod
    def backward(ctx, v_means2d, v_conics, _v_depths, _v_radii):
        means, quats, scales, radii = ctx.saved_tensors
        v_means2d = torch.zeros_like(means[:, :2]) if v_means2d is None else _f32(v_means2d)
        v_conics = torch.zeros_like(means) if v_conics is None else _f32(v_conics)
        v_means, v_quats, v_scales = load_extension().project_backward(
            means, quats, scales, *ctx.cam, _settings(), radii, v_means2d, v_conics
        )
        return v_means, v_quats, v_scales, None, None, None, None, None


class _RenderCPU(torch.autograd.Function):
    """image (H, W, 3), alpha (H, W) of projected Gaussians; see `rasterize_cpu`."""

    @staticmethod
    def forward(ctx, means2d, conics, opacities, colors, background, depths, radii, width, height):
        ext = load_extension()
        means2d, conics, opacities, colors, depths = (_f32(t) for t in (means2d, conics, opacities, colors, depths))
        bg = None if background is None else _f32(background)
        size = (int(width), int(height))
        offsets, ids = ext.bin(means2d, depths, radii, *size, _settings())
        image, alpha, trans, last = ext.render(
            offsets, ids, means2d, conics, opacities, colors, radii, bg, *size, _settings()
        )
        ctx.size, ctx.has_bg = size, bg is not None
        ctx.save_for_backward(offsets, ids, means2d, conics, opacities, colors, radii, trans, last, bg)
        return image, alpha

    @staticmethod
    def backward(ctx, v_image, v_alpha):
        offsets, ids, means2d, conics, opacities, colors, radii, trans, last, bg = ctx.saved_tensors
        v_image = torch.zeros_like(trans)[..., None].expand(-1, -1, 3) if v_image is None else v_image
        v_alpha = torch.zeros_like(trans) if v_alpha is None else v_alpha
        v_image, v_alpha = _f32(v_image), _f32(v_alpha)
        v_means2d, v_conics, v_opac, v_colors = load_extension().render_backward(
            offsets, ids, means2d, conics, opacities, colors, radii, bg, trans, last, v_image, v_alpha,
            *ctx.size, _settings(),
        )  # fmt: skip
        v_bg = (trans[..., None] * v_image).sum(dim=(0, 1)) if ctx.has_bg and ctx.needs_input_grad[4] else None
        return v_means2d, v_conics, v_opac, v_colors, v_bg, None, None, None, None


def project_cpu(means, quats, scales, opacities, viewmat, K, width: int, height: int):
    """EWA projection with the compiled kernels: means2d (N, 2) px, conics (N, 3) inverse 2D
    covariance (xx, xy, yy), depths (N,) camera z, radii (N, 2) int32 px (0 where culled).
    means2d and conics are differentiable w.r.t. means, quats and scales."""
    return _ProjectCPU.apply(means, quats, scales, opacities, viewmat, K, width, height)


class _ShColorsCPU(torch.autograd.Function):
    """colors (N, 3) of SH coefficients; see `sh_colors_cpu`."""

    @staticmethod
    def forward(ctx, sh, means, campos, degree):
        sh, means, campos = _f32(sh), _f32(means), _f32(campos)
        colors = load_extension().sh_colors(sh, means, campos, int(degree), torch.get_num_threads())
        ctx.degree = int(degree)
        ctx.save_for_backward(sh, means, campos, colors)
        return colors

    @staticmethod
    def backward(ctx, v_colors):
        sh, means, campos, colors = ctx.saved_tensors
        v_sh, v_means = load_extension().sh_colors_backward(
            sh, means, campos, ctx.degree, colors, _f32(v_colors), torch.get_num_threads()
        )
        return v_sh, v_means, None, None


def sh_colors_cpu(sh, means, viewmat, degree: int):
    """(N, 3) colours of SH coefficients sh (N, K, 3) (degree 0..3) for the camera of viewmat
    (4, 4): SH . basis(unit(mean - camera centre)) + 0.5, clamped at 0. Differentiable
    w.r.t. sh and means; same result as `spaceport.splat.sh.sh_to_colors`."""
    num_sh_bases(degree)  # validates the degree
    if sh.dim() != 3 or sh.shape[-1] != 3 or sh.shape[1] < num_sh_bases(degree):
        raise ValueError(f"SH coefficients must be (N, K>={num_sh_bases(degree)}, 3), got {tuple(sh.shape)}")
    return _ShColorsCPU.apply(sh, means, camera_center(_f32(viewmat)), degree)


def rasterize_cpu(
    means, quats, scales, opacities, colors, viewmat, K, width: int, height: int, background=None
) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Render one image with the compiled CPU kernels.

    means (N, 3) world; quats (N, 4) w, x, y, z (any norm); scales (N, 3) activated;
    opacities (N,) in [0, 1]; colors (N, 3) (already evaluated from SH if needed);
    viewmat (4, 4) world->camera; K (3, 3) pixels; background (3,) or None (black).
    Returns image (H, W, 3), alpha (H, W, 1), float32, and info: "means2d" (N, 2), the
    projected centres in the autograd graph (call .retain_grad() on it to read screen-space
    gradients after backward), "radii" (N, 2) int32 (0: culled), "depths" (N,).
    """
    means2d, conics, depths, radii = project_cpu(means, quats, scales, opacities, viewmat, K, width, height)
    image, alpha = _RenderCPU.apply(means2d, conics, opacities, colors, background, depths, radii, width, height)
    return image, alpha[..., None], {"means2d": means2d, "radii": radii, "depths": depths}
