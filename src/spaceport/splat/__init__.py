"""Gaussian splat models. For now: the standard 3DGS PLY layout (`splat.ply`)."""
