"""Real drone photos: a downscaled copy of Brighton Beach through the `spaceport sfm` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import BRIGHTON

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def brighton_1000(tmp_path_factory) -> Path:
    """The 18 real photos, 1000 px wide, EXIF (camera, GPS) kept."""
    if not BRIGHTON.is_dir():
        pytest.skip(f"real photos not found at {BRIGHTON}")
    folder = tmp_path_factory.mktemp("brighton")
    for path in sorted(BRIGHTON.glob("*.JPG")):
        with Image.open(path) as image:
            exif = image.info.get("exif")
            image.draft("RGB", (1000, 1000))
            small = image.resize((1000, round(image.height * 1000 / image.width)), Image.LANCZOS)
            small.save(folder / path.name, quality=90, exif=exif)
    return folder


def test_real_photos_register_with_small_errors(brighton_1000, tmp_path):
    out = tmp_path / "sfm"
    result = subprocess.run(
        [sys.executable, "-m", "spaceport.cli", "sfm", str(brighton_1000), str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "registered" in result.stdout and "[100.0%]" in result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["images_total"] == 18
    assert report["images_registered"] >= 16
    assert report["mean_reprojection_error_px"] < 1.5
    assert report["frame"] == "enu" and report["gps_residual_m"] < 3.0
    assert report["cameras"] == 1
    assert len(list((out / "images").iterdir())) == report["images_registered"]
    assert json.loads((out / "manifest.json").read_text())["stage"] == "sfm"
    assert not (out / ".input").exists()
