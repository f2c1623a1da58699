"""SfM steps on their own: cameras per physical camera, the automatic choice of matching."""

from __future__ import annotations

import pycolmap
import pytest

from scenes import write_jpeg_with_exif
from conftest import noise_rgb
from spaceport import ingest
from spaceport.ingest import IngestOptions
from spaceport.progress import Progress
from spaceport.sfm import steps
from spaceport.sfm.options import SfmOptions


def test_one_colmap_camera_per_physical_camera(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    cameras = [("DJI", "FC300S", 3.61), ("DJI", "FC6310", 8.8), ("DJI", "FC300S", 3.61), ("DJI", "FC6310", 8.8)]
    for index, (make, model, focal) in enumerate(cameras * 2):
        write_jpeg_with_exif(photos / f"{index:02d}.jpg", noise_rgb(index), make, model, focal, 24, None)
    images = ingest.run(photos, tmp_path / "images", IngestOptions(), Progress()).images
    database = tmp_path / "database.db"
    steps.create_database(database, tmp_path / "images", images, SfmOptions())
    with pycolmap.Database.open(str(database)) as db:
        assert db.num_images() == 8
        assert db.num_cameras() == 2
        by_camera = {}
        for image in db.read_all_images():
            by_camera.setdefault(image.camera_id, set()).add(int(image.name[:2]) % 2)
    assert sorted(by_camera.values(), key=sorted) == [{0}, {1}]


@pytest.mark.parametrize(
    ("matching", "count", "gps", "expected"),
    [
        ("auto", 18, 18, "spatial"),
        ("auto", 18, 2, "exhaustive"),
        ("auto", 500, 0, "sequential"),
        ("auto", 100, 0, "exhaustive"),
        ("sequential", 18, 18, "sequential"),
        ("exhaustive", 500, 500, "exhaustive"),
    ],
)
def test_matching_choice(matching, count, gps, expected):
    assert steps.choose_matching(SfmOptions(matching=matching), count, gps) == expected
