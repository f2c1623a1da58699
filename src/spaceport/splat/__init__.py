"""Stage 2: 3D Gaussian Splatting. Rasterizer backends: gsplat (CUDA), our CPU kernels, a reference."""

from spaceport.splat.rasterize import rasterize, resolve_backend

__all__ = ["rasterize", "resolve_backend"]
