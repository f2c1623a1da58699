"""Real spherical harmonics up to degree 3, evaluated to RGB the way 3DGS and gsplat do.

colour = sum_k sh[k] * basis_k(direction) + 0.5, clamped at 0, with direction the unit
vector from the camera centre to the Gaussian's centre.
"""

from __future__ import annotations

import torch

# Normalization constants of the real SH basis (degree 0..3), as in the 3DGS paper's code.
C0 = 0.28209479177387814
C1 = 0.4886025119029199
C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
C3 = (
    -0.5900435899266435,
    2.890611442640554,
    -0.4570457994644658,
    0.3731763325901154,
    -0.4570457994644658,
    1.445305721320277,
    -0.5900435899266435,
)


def num_sh_bases(degree: int) -> int:
    """Number of SH coefficients per channel for `degree` (0..3): (degree + 1)^2."""
    if not 0 <= degree <= 3:
        raise ValueError(f"sh_degree must be between 0 and 3, got {degree}")
    return (degree + 1) ** 2


def sh_basis(dirs: torch.Tensor, degree: int) -> torch.Tensor:
    """(N, (degree+1)^2) basis values for unit directions `dirs` (N, 3)."""
    x, y, z = dirs.unbind(-1)
    out = [torch.full_like(x, C0)]
    if degree >= 1:
        out += [-C1 * y, C1 * z, -C1 * x]
    if degree >= 2:
        xx, yy, zz, xy, yz, xz = x * x, y * y, z * z, x * y, y * z, x * z
        out += [
            C2[0] * xy,
            C2[1] * yz,
            C2[2] * (2.0 * zz - xx - yy),
            C2[3] * xz,
            C2[4] * (xx - yy),
        ]
    if degree >= 3:
        out += [
            C3[0] * y * (3.0 * xx - yy),
            C3[1] * xy * z,
            C3[2] * y * (4.0 * zz - xx - yy),
            C3[3] * z * (2.0 * zz - 3.0 * xx - 3.0 * yy),
            C3[4] * x * (4.0 * zz - xx - yy),
            C3[5] * z * (xx - yy),
            C3[6] * x * (xx - 3.0 * yy),
        ]
    return torch.stack(out, dim=-1)


def camera_center(viewmat: torch.Tensor) -> torch.Tensor:
    """(3,) camera centre in world coordinates from a (4, 4) world->camera matrix."""
    rotation, translation = viewmat[:3, :3], viewmat[:3, 3]
    return -rotation.transpose(0, 1) @ translation


def sh_to_colors(sh: torch.Tensor, means: torch.Tensor, viewmat: torch.Tensor, degree: int) -> torch.Tensor:
    """(N, 3) colours of SH coefficients `sh` (N, K, 3) seen from the camera of `viewmat`.

    Only the first (degree+1)^2 of the K coefficients are used; differentiable w.r.t. sh and
    means (through the viewing direction).
    """
    bases = num_sh_bases(degree)
    if sh.dim() != 3 or sh.shape[-1] != 3 or sh.shape[1] < bases:
        raise ValueError(f"SH coefficients must be (N, K>={bases}, 3) for degree {degree}, got {tuple(sh.shape)}")
    dirs = means - camera_center(viewmat).detach().to(means)
    dirs = dirs / dirs.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    basis = sh_basis(dirs, degree)  # (N, bases)
    colors = (basis[:, :, None] * sh[:, :bases, :]).sum(dim=1)
    return torch.clamp_min(colors + 0.5, 0.0)
