"""Structure from motion on synthetic drone scenes with known cameras."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pycolmap
import pytest

from scenes import make_drone_scene
from spaceport import ingest, sfm
from spaceport.errors import Cancelled, StageError
from spaceport.ingest import IngestOptions
from spaceport.progress import Progress
from spaceport.sfm import geo
from spaceport.sfm.options import SfmOptions


def ingested(scene_dir: Path, out: Path) -> Path:
    ingest.run(scene_dir, out, IngestOptions(), Progress())
    return out


def centres_by_name(sfm_dir: Path) -> dict[str, np.ndarray]:
    model = pycolmap.Reconstruction(str(sfm_dir / "sparse" / "0"))
    return {image.name: image.projection_center() for image in model.images.values() if image.has_pose}


def similarity_residuals(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Distances after the least-squares similarity (Umeyama) taking (N, 3) source onto target."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    s, t = source - mu_s, target - mu_t
    u, d, vt = np.linalg.svd(t.T @ s / len(s))
    flip = np.diag([1, 1, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ flip @ vt
    scale = np.trace(np.diag(d) @ flip) / (s**2).sum(1).mean()
    return np.linalg.norm(scale * s @ rotation.T + mu_t - target, axis=1)


@pytest.fixture(scope="module")
def gps_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("gps")
    scene = make_drone_scene(root / "photos", gps=True, gps_noise_m=0.3, seed=0)
    images = ingested(scene.folder, root / "images")
    progress_seen: list[tuple[float, str]] = []
    report = sfm.run(images, root / "sfm", SfmOptions(), Progress(lambda f, m: progress_seen.append((f, m))))
    return scene, root / "sfm", report, progress_seen


def test_every_camera_registers_in_metric_enu(gps_run):
    scene, sfm_dir, report, _ = gps_run
    assert report.images_registered == report.images_total == len(scene.names)
    assert report.frame == "enu" and report.matching == "spatial" and report.cameras == 1
    assert report.mean_reprojection_error_px < 1.0
    assert report.gps_residual_m < 1.0
    centres = centres_by_name(sfm_dir)
    ours = np.array([centres[name.replace(".JPG", ".jpg")] for name in scene.names])
    as_truth_enu = geo.to_enu(geo.to_wgs84(ours, report.origin_wgs84), scene.origin_wgs84)
    errors = np.linalg.norm(as_truth_enu - scene.centers_enu, axis=1)
    assert errors.max() < 0.01 * scene.extent_m, errors
    assert abs(np.median(ours[:, 2]) - 60.0) < 15.0  # cameras ~60 m above a scene centred at 0


def test_outputs_follow_the_stage_contract(gps_run):
    scene, sfm_dir, report, progress_seen = gps_run
    for name in ("cameras.bin", "images.bin", "points3D.bin"):
        assert (sfm_dir / "sparse" / "0" / name).is_file()
    undistorted = sorted(p.name for p in (sfm_dir / "images").iterdir())
    assert len(undistorted) == len(scene.names)
    saved = json.loads((sfm_dir / "report.json").read_text())
    for key in ("images_total", "images_registered", "points", "mean_reprojection_error_px", "mean_track_length",
                "mapper", "matching", "pairs_matched", "gps_residual_m", "seconds"):
        assert key in saved
    assert set(saved["seconds"]) == {"extract", "match", "map", "undistort"}
    fractions = [f for f, _ in progress_seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("matching" in m for _, m in progress_seen) and any("registered" in m for _, m in progress_seen)


def test_without_gps_a_normalized_upright_frame(tmp_path):
    scene = make_drone_scene(tmp_path / "photos", gps=False, seed=1)
    report = sfm.run(ingested(scene.folder, tmp_path / "images"), tmp_path / "sfm", SfmOptions(), Progress())
    assert report.frame == "normalized" and report.matching == "exhaustive" and report.gps_residual_m is None
    centres = centres_by_name(tmp_path / "sfm")
    ours = np.array([centres[name.replace(".JPG", ".jpg")] for name in scene.names])
    assert np.linalg.norm(ours, axis=1).max() == pytest.approx(1.0, abs=1e-6)
    assert (ours[:, 2] > 0.2).all()  # cameras above the ground: z is up
    residuals = similarity_residuals(ours, scene.centers_enu)
    assert residuals.max() < 0.01 * scene.extent_m


def test_refused_result_falls_back_then_fails_clearly(tmp_path):
    scene = make_drone_scene(tmp_path / "photos", gps=True, gps_noise_m=3.0, seed=2)
    images = ingested(scene.folder, tmp_path / "images")
    with pytest.raises(StageError) as error:
        sfm.run(images, tmp_path / "sfm", SfmOptions(max_gps_residual_m=0.05), Progress())
    message = str(error.value)
    assert "incremental:" in message and "global:" in message and "max_gps_residual_m" in message


def test_cancel_stops_the_stage(tmp_path):
    scene = make_drone_scene(tmp_path / "photos", gps=True, seed=0, rows=2, cols=3)
    images = ingested(scene.folder, tmp_path / "images")
    progress = Progress()

    def cancel_on_matching(fraction: float, message: str) -> None:
        if "matching" in message:
            progress.cancel()

    progress._on_update = cancel_on_matching
    with pytest.raises(Cancelled):
        sfm.run(images, tmp_path / "sfm", SfmOptions(), progress)
    assert not (tmp_path / "sfm" / "report.json").exists()


def test_sequential_matching_registers_an_ordered_capture(tmp_path):
    scene = make_drone_scene(tmp_path / "photos", rows=2, cols=3, gps=False, seed=3)
    images = ingested(scene.folder, tmp_path / "images")
    report = sfm.run(images, tmp_path / "sfm", SfmOptions(matching="sequential", sequential_overlap=3), Progress())
    assert report.matching == "sequential" and report.images_registered == 6
    assert report.pairs_matched <= 12  # 6 photos, each with at most 3 following ones
