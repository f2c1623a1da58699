"""Shared fixtures: small photos made in code, and the real photos when present."""

from __future__ import annotations

from pathlib import Path

import spaceport  # noqa: F401, I001  first: loads the system zlib before pycolmap (see spaceport/__init__.py)
import numpy as np
import pytest

from datasets import make_colmap_dataset
from scenes import write_jpeg_with_exif

BRIGHTON = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "brighton_beach" / "images"


def noise_rgb(seed: int, height: int = 48, width: int = 64) -> np.ndarray:
    """(height, width, 3) uint8 random colours."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture
def make_photo():
    """make_photo(path, seed=0, gps=(lat, lon, alt) or None) writes a small geotagged JPEG."""

    def make(path: Path, seed: int = 0, gps=(46.8426, -91.9939, 200.0)) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jpeg_with_exif(path, noise_rgb(seed), "DJI", "FC300S", 3.61, 20, gps)
        return path

    return make


@pytest.fixture
def photo_folder(tmp_path, make_photo) -> Path:
    """Four good photos, two with the same name in different folders."""
    folder = tmp_path / "photos"
    for index, relative in enumerate(["a/IMG_1.JPG", "b/IMG_1.JPG", "IMG_2.jpg", "deep/er/IMG_3.jpeg"]):
        make_photo(folder / relative, seed=index)
    return folder


@pytest.fixture(scope="session")
def colmap_dataset(tmp_path_factory) -> Path:
    """A standard COLMAP dataset folder (sparse/0/*.bin, images/) of 6 synthetic photos; treat as read-only."""
    return make_colmap_dataset(tmp_path_factory.mktemp("colmap"))


@pytest.fixture(autouse=True, scope="session")
def quiet_colmap():
    """COLMAP logs every step at INFO; keep warnings and errors only."""
    import pycolmap

    pycolmap.logging.minloglevel = 1
