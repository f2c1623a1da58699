"""Plain-PyTorch reference rasterizer: slow, dense, obviously correct; autograd gives its gradients.

Every Gaussian is evaluated at every pixel (memory ~ N * H * W), so it is only for tests and
small benchmarks. It follows gsplat 1.5.3's classic-mode conventions (see `conventions`):
EWA projection with a clamped Jacobian and a 0.3 px^2 low-pass, near/far culling, an
opacity-aware screen-space box, front-to-back compositing in depth order, alpha clamped at
ALPHA_MAX and skipped below ALPHA_MIN, and an exclusive stop at TRANSMITTANCE_MIN.

gsplat only evaluates a Gaussian on the 16x16 tiles its box touches; outside its box the
alpha is always below ALPHA_MIN (see conventions.EXTENT_SIGMAS), so evaluating it
everywhere gives the same image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from spaceport.splat import conventions as cv
from spaceport.splat.sh import sh_to_colors


@dataclass
class Projection:
    """Screen-space Gaussians, all (N, ...): means2d (N, 2) px, conics (N, 3) = inverse 2D
    covariance (xx, xy, yy) in 1/px^2, depths (N,) camera z, radii (N, 2) int px (box
    half-size), valid (N,) bool (not culled)."""

    means2d: torch.Tensor
    conics: torch.Tensor
    depths: torch.Tensor
    radii: torch.Tensor
    valid: torch.Tensor


def quat_to_rotmat(quats: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) rotation matrices of quaternions (N, 4) in w, x, y, z order (any norm)."""
    w, x, y, z = (quats / quats.norm(dim=-1, keepdim=True)).unbind(-1)
    rows = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip
    return torch.stack(rows, dim=-1).reshape(-1, 3, 3)


def covariances(quats: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) world covariances R S S^T R^T from quaternions (N, 4) and scales (N, 3)."""
    m = quat_to_rotmat(quats) * scales[:, None, :]
    return m @ m.transpose(1, 2)


def project(means, quats, scales, opacities, viewmat, K, width: int, height: int) -> Projection:
    """EWA-project Gaussians (world units) to the image of camera (viewmat (4, 4), K (3, 3))."""
    rot, trans = viewmat[:3, :3], viewmat[:3, 3]
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    mc = means @ rot.T + trans
    z = mc[:, 2]
    in_depth = (z >= cv.NEAR_PLANE) & (z <= cv.FAR_PLANE)
    zs = torch.where(in_depth, z, torch.ones_like(z))  # keeps culled ones finite
    cov_c = rot @ covariances(quats, scales) @ rot.T

    lim_x = (float(width) - cx) / fx + cv.FOV_CLAMP * 0.5 * width / fx
    lim_x_neg = cx / fx + cv.FOV_CLAMP * 0.5 * width / fx
    lim_y = (float(height) - cy) / fy + cv.FOV_CLAMP * 0.5 * height / fy
    lim_y_neg = cy / fy + cv.FOV_CLAMP * 0.5 * height / fy
    tx = zs * torch.minimum(torch.maximum(mc[:, 0] / zs, -lim_x_neg), lim_x)
    ty = zs * torch.minimum(torch.maximum(mc[:, 1] / zs, -lim_y_neg), lim_y)
    zero = torch.zeros_like(zs)
    jac = torch.stack(
        [fx / zs, zero, -fx * tx / zs**2, zero, fy / zs, -fy * ty / zs**2], dim=-1
    ).reshape(-1, 2, 3)
    cov2d = jac @ cov_c @ jac.transpose(1, 2)
    a = cov2d[:, 0, 0] + cv.EPS2D
    b = cov2d[:, 0, 1]
    c = cov2d[:, 1, 1] + cv.EPS2D
    det = a * c - b * b
    det_ok = det > 0
    dets = torch.where(det_ok, det, torch.ones_like(det))
    conics = torch.stack([c / dets, -b / dets, a / dets], dim=-1)
    means2d = torch.stack([fx * mc[:, 0] / zs + cx, fy * mc[:, 1] / zs + cy], dim=-1)

    with torch.no_grad():
        op = opacities.clamp_min(cv.ALPHA_MIN)
        extent = torch.sqrt(2.0 * torch.log(op / cv.ALPHA_MIN)).clamp_max(cv.EXTENT_SIGMAS)
        radii = torch.stack([torch.ceil(extent * a.clamp_min(0).sqrt()), torch.ceil(extent * c.clamp_min(0).sqrt())], -1)
        mx, my = means2d[:, 0], means2d[:, 1]
        rx, ry = radii[:, 0], radii[:, 1]
        on_screen = (mx + rx > 0) & (mx - rx < width) & (my + ry > 0) & (my - ry < height)
        valid = in_depth & det_ok & (opacities >= cv.ALPHA_MIN) & ((rx > 0) | (ry > 0)) & on_screen
        radii = torch.where(valid[:, None], radii, torch.zeros_like(radii)).to(torch.int32)
    return Projection(means2d, conics, z, radii, valid)


def composite(proj: Projection, opacities, colors, width: int, height: int, background=None):
    """Front-to-back blend of the valid Gaussians at every pixel centre.

    Returns image (H, W, 3) and alpha (H, W, 1); `background` (3,) or None (black) fills
    what transmittance is left.
    """
    dtype = colors.dtype
    idx = torch.nonzero(proj.valid).squeeze(1)
    idx = idx[torch.argsort(proj.depths.detach()[idx], stable=True)]
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=dtype) + 0.5, torch.arange(width, dtype=dtype) + 0.5, indexing="ij"
    )
    pix = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1)  # (P, 2)
    delta = proj.means2d[idx][:, None, :] - pix[None]  # (G, P, 2)
    con = proj.conics[idx]
    dx, dy = delta[..., 0], delta[..., 1]
    sigma = 0.5 * (con[:, None, 0] * dx * dx + con[:, None, 2] * dy * dy) + con[:, None, 1] * dx * dy
    alpha = torch.clamp_max(opacities[idx][:, None] * torch.exp(-sigma), cv.ALPHA_MAX)
    alpha = torch.where((sigma >= 0) & (alpha >= cv.ALPHA_MIN), alpha, torch.zeros_like(alpha))
    with torch.no_grad():  # exclusive stop: blend while the transmittance after stays above the floor
        blended = torch.cumprod(1.0 - alpha, dim=0) > cv.TRANSMITTANCE_MIN
    alpha = alpha * blended
    trans_after = torch.cumprod(1.0 - alpha, dim=0)  # (G, P)
    ones = torch.ones(1, len(pix), dtype=dtype)
    trans_before = torch.cat([ones, trans_after[:-1]], dim=0)
    weights = alpha * trans_before
    final_t = torch.cat([ones, trans_after], dim=0)[-1]
    image = weights.transpose(0, 1) @ colors[idx].to(dtype)
    if background is not None:
        image = image + final_t[:, None] * background.to(dtype)
    return image.reshape(height, width, 3), (1.0 - final_t).reshape(height, width, 1)


def rasterize_reference(
    means, quats, scales, opacities, colors, viewmat, K, width: int, height: int, sh_degree=None, background=None
):
    """Render one image.

    means (N, 3) world; quats (N, 4) w, x, y, z (any norm); scales (N, 3) activated, world
    units; opacities (N,) activated in [0, 1]; colors (N, 3), or SH coefficients (N, K, 3)
    when `sh_degree` is given; viewmat (4, 4) world->camera; K (3, 3) intrinsics in pixels;
    background (3,) or None. Returns image (H, W, 3), alpha (H, W, 1) and info: "means2d"
    (N, 2) (in the autograd graph), "radii" (N, 2) int32 (0: culled), "depths" (N,).
    """
    if sh_degree is not None:
        colors = sh_to_colors(colors, means, viewmat, sh_degree)
    proj = project(means, quats, scales, opacities, viewmat, K, width, height)
    image, alpha = composite(proj, opacities, colors, width, height, background)
    return image, alpha, {"means2d": proj.means2d, "radii": proj.radii, "depths": proj.depths.detach()}
