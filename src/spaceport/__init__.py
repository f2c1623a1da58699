"""Spaceport: drone photos to compressed 3D Gaussian Splat scenes for the web."""

__version__ = "0.1.0"
