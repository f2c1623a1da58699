"""Rasterization constants shared by every backend (gsplat 1.5.3's defaults, classic mode).

Keeping them in one place is what makes the reference, the CPU kernels and gsplat agree.
Pixel centres are at integer + 0.5 (pixel (row i, column j) is sampled at x = j + 0.5,
y = i + 0.5, in pixels); cameras follow COLMAP/OpenCV (x right, y down, z forward).
"""

from __future__ import annotations

NEAR_PLANE = 0.01
"""Gaussians whose centre has camera depth z < NEAR_PLANE (scene units) are culled."""
FAR_PLANE = 1e10
"""Gaussians whose centre has camera depth z > FAR_PLANE (scene units) are culled."""
EPS2D = 0.3
"""Low-pass filter: added to both diagonal entries of every 2D covariance (pixels^2)."""
ALPHA_MIN = 1.0 / 255.0
"""A Gaussian whose alpha at a pixel is below this is skipped there (and culled if its
opacity is below it)."""
ALPHA_MAX = 0.999
"""Alpha is clamped to at most this (gsplat 1.5.3 uses 0.999; the 3DGS paper used 0.99)."""
TRANSMITTANCE_MIN = 1e-4
"""A pixel stops when the next Gaussian would bring its transmittance to this or below;
that Gaussian is not blended (exclusive stop)."""
EXTENT_SIGMAS = 3.33
"""Upper bound on the screen-space extent in standard deviations; the actual extent is
sqrt(2 ln(opacity / ALPHA_MIN)) (opacity-aware bounding box), which is always smaller for
opacity <= 1, so no pixel outside the box can reach ALPHA_MIN."""
TILE_SIZE = 16
"""Tiles are TILE_SIZE x TILE_SIZE pixels."""
FOV_CLAMP = 0.3
"""The Jacobian of the projection is evaluated at x/z clamped to the image edges plus
FOV_CLAMP times the half field of view (tangent), as in 3DGS."""
