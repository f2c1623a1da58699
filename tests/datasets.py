"""Inputs for jobs that start at a later stage: a COLMAP dataset made from a synthetic survey,
ZIPs of folders, and PLYs with or without the 3DGS properties."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
from plyfile import PlyData, PlyElement

from scenes import make_drone_scene
from spaceport import ingest, sfm
from spaceport.ingest.options import IngestOptions
from spaceport.progress import Progress
from spaceport.sfm.options import SfmOptions


def make_colmap_dataset(root: Path) -> Path:
    """A standard COLMAP dataset folder `root/dataset` (sparse/0/*.bin, images/ undistorted)
    of a 2x3 synthetic survey at 320x240: 6 registered photos, a few hundred points."""
    make_drone_scene(root / "photos", rows=2, cols=3, width=320, height=240, seed=0)
    ingest.run(root / "photos", root / "ingested", IngestOptions(), Progress())
    sfm.run(root / "ingested", root / "sfm", SfmOptions(), Progress())
    dataset = root / "dataset"
    shutil.copytree(root / "sfm" / "sparse", dataset / "sparse")
    shutil.copytree(root / "sfm" / "images", dataset / "images")
    return dataset


def zip_tree(folder: Path, archive: Path, prefix: str = "", skip: tuple[str, ...] = ()) -> Path:
    """ZIP every file under `folder` into `archive` below `prefix/`, leaving out the paths
    (relative to `folder`, POSIX) that start with one of `skip`."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and not relative.startswith(skip):
                zf.write(path, f"{prefix}/{relative}" if prefix else relative)
    return archive


def write_plain_ply(path: Path, count: int = 4) -> Path:
    """A valid PLY of `count` coloured points (x y z red green blue): not a 3DGS PLY."""
    records = np.zeros(count, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    PlyData([PlyElement.describe(records, "vertex")]).write(str(path))
    return path
