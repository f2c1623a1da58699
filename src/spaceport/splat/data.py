"""Training views from a COLMAP dataset: `sparse/0/*.bin` (pinhole cameras) and `images/`.

Works on the `sfm/` folder of a job and on any standard COLMAP dataset layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pycolmap
import torch
from PIL import Image

from spaceport.errors import InputError

PINHOLE_MODELS = {"PINHOLE", "SIMPLE_PINHOLE"}


@dataclass
class View:
    """One photo and its camera. image: (H, W, 3) float32 in [0, 1]; viewmat: (4, 4)
    world->camera (x right, y down, z forward); K: (3, 3) pixels."""

    name: str
    image: torch.Tensor
    viewmat: torch.Tensor
    K: torch.Tensor

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def center(self) -> torch.Tensor:
        """(3,) camera centre in world units."""
        rotation, translation = self.viewmat[:3, :3], self.viewmat[:3, 3]
        return -rotation.T @ translation


@dataclass
class Scene:
    """Training and held-out views, and the sparse points (N, 3) xyz with (N, 3) rgb in [0, 1]."""

    train: list[View]
    test: list[View]
    points: np.ndarray
    colors: np.ndarray

    @property
    def extent(self) -> float:
        """Radius of the camera centres around their mean, times 1.1 (the 3DGS scene scale)."""
        centres = torch.stack([view.center for view in self.train + self.test])
        return float(1.1 * (centres - centres.mean(0)).norm(dim=1).max().clamp(min=1e-6))


def find_model(root: Path) -> Path:
    for candidate in (root / "sparse" / "0", root / "sparse"):
        if (candidate / "cameras.bin").is_file() or (candidate / "cameras.txt").is_file():
            return candidate
    raise InputError(f"'{root}' holds no COLMAP model: expected sparse/0/cameras.bin and images/ (an sfm/ folder)")


def load_scene(root: Path, max_side: int, test_every: int) -> Scene:
    """Read the model and photos under `root`; images scaled so the longest side <= max_side.

    Every `test_every`-th view (in name order) is held out; 0 holds none out.
    """
    model = pycolmap.Reconstruction(str(find_model(root)))
    images = sorted((image for image in model.images.values() if image.has_pose), key=lambda image: image.name)
    if len(images) < 2:
        raise InputError(f"'{root}': the model has {len(images)} registered image(s); training needs at least 2")
    views = [load_view(root / "images", image, model.cameras[image.camera_id], max_side) for image in images]
    held = [i for i in range(len(views)) if test_every and i % test_every == 0 and len(views) > 2]
    points = np.array([p.xyz for p in model.points3D.values()], dtype=np.float32).reshape(-1, 3)
    colors = np.array([p.color for p in model.points3D.values()], dtype=np.float32).reshape(-1, 3) / 255.0
    return Scene(
        train=[v for i, v in enumerate(views) if i not in held], test=[views[i] for i in held], points=points, colors=colors
    )


def load_view(image_dir: Path, image: pycolmap.Image, camera: pycolmap.Camera, max_side: int) -> View:
    if camera.model.name not in PINHOLE_MODELS:
        raise InputError(
            f"camera {camera.camera_id} is {camera.model.name}; training needs undistorted pinhole images "
            "(run `spaceport sfm`, or COLMAP's image_undistorter)"
        )
    path = image_dir / image.name
    if not path.is_file():
        raise InputError(f"photo '{image.name}' of the model is missing from '{image_dir}'")
    with Image.open(path) as photo:
        scale = min(1.0, max_side / max(photo.size))
        size = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
        pixels = np.asarray(photo.convert("RGB").resize(size, Image.LANCZOS), dtype=np.float32) / 255.0
    sx, sy = size[0] / camera.width, size[1] / camera.height
    fx, fy = camera.focal_length_x * sx, camera.focal_length_y * sy
    K = torch.tensor([[fx, 0, camera.principal_point_x * sx], [0, fy, camera.principal_point_y * sy], [0, 0, 1]])
    viewmat = torch.eye(4)
    viewmat[:3, :] = torch.from_numpy(image.cam_from_world().matrix()).float()
    return View(name=image.name, image=torch.from_numpy(pixels), viewmat=viewmat, K=K.float())
