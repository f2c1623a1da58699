"""The job folder: stages in order, finished stages skipped on re-run, re-run from a stage."""

from __future__ import annotations

import pytest

from scenes import make_drone_scene
from spaceport import pipeline
from spaceport.errors import InputError
from spaceport.progress import Progress
from spaceport.splat.options import TrainOptions

TINY_TRAIN = TrainOptions(iterations=10, resolution=64, max_gaussians=2000, refine_start=5, refine_every=5, refine_stop=8)
TINY_FLAGS = ["--iterations", "10", "--resolution", "64", "--max-gaussians", "2000"]


def test_job_runs_resumes_and_reruns_from_a_stage(tmp_path):
    scene = make_drone_scene(tmp_path / "photos", rows=2, cols=3, seed=0)
    job = tmp_path / "job"
    seen = []
    manifests = pipeline.run_job(scene.folder, job, pipeline.JobOptions(train=TINY_TRAIN), Progress(lambda f, m: seen.append(f)))
    assert manifests["sfm"]["report"]["images_registered"] == 6
    assert len(manifests["images"]["report"]["images"]) == 6
    assert seen[-1] == 1.0
    stamps = {stage: (job / stage / "manifest.json").stat().st_mtime_ns for stage in pipeline.STAGES}

    pipeline.run_job(scene.folder, job, pipeline.JobOptions(train=TINY_TRAIN), Progress())
    assert stamps == {stage: (job / stage / "manifest.json").stat().st_mtime_ns for stage in pipeline.STAGES}

    pipeline.rerun_from(job, "sfm")
    assert not (job / "sfm" / "manifest.json").exists() and (job / "images" / "manifest.json").exists()
    pipeline.run_job(scene.folder, job, pipeline.JobOptions(train=TINY_TRAIN), Progress())
    assert (job / "sfm" / "manifest.json").stat().st_mtime_ns != stamps["sfm"]
    assert (job / "images" / "manifest.json").stat().st_mtime_ns == stamps["images"]


def test_failed_stage_keeps_the_photos_and_is_not_marked_finished(tmp_path):
    scene = make_drone_scene(tmp_path / "photos", rows=2, cols=3, seed=0)
    job = tmp_path / "job"
    options = pipeline.JobOptions(sfm={"max_gps_residual_m": 1e-4, "fallback": False}, train=TINY_TRAIN)
    with pytest.raises(Exception, match="failed validation"):
        pipeline.run_job(scene.folder, job, options, Progress())
    assert (job / "images" / "manifest.json").exists()
    assert len(list((job / "images").glob("*.jpg"))) == 6
    assert not (job / "sfm" / "manifest.json").exists()
    with pytest.raises(InputError, match="unknown stage"):
        pipeline.rerun_from(job, "paint")


def test_run_command_and_rerun_from_a_stage(tmp_path):
    from click.testing import CliRunner

    from spaceport.cli import main

    scene = make_drone_scene(tmp_path / "photos", rows=2, cols=3, seed=1)
    job = tmp_path / "job"
    first = CliRunner().invoke(main, ["run", str(scene.folder), str(job), *TINY_FLAGS])
    assert first.exit_code == 0, first.output
    assert "registered 6/6 photos" in first.output
    stamp = (job / "images" / "manifest.json").stat().st_mtime_ns
    again = CliRunner().invoke(main, ["run", str(scene.folder), str(job), "--from", "sfm", "--mapper", "global", *TINY_FLAGS])
    assert again.exit_code == 0, again.output
    assert "global mapper" in again.output and "trained" in again.output and "web scene" in again.output
    assert (job / "images" / "manifest.json").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_demo_runs_on_the_built_in_example(tmp_path):
    import subprocess
    import sys

    import os

    reduced = dict(os.environ, SPACEPORT_TRAIN_ITERATIONS="30", SPACEPORT_TRAIN_RESOLUTION="200")
    result = subprocess.run(
        [sys.executable, "-m", "spaceport.cli", "demo", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=600, env=reduced,
    )
    assert result.returncode == 0, result.stderr
    assert "registered 18/18 photos" in result.stdout or "registered 17/18 photos" in result.stdout
    assert (tmp_path / "demo" / "sfm" / "sparse" / "0" / "points3D.bin").is_file()
    assert (tmp_path / "demo" / "train" / "scene.ply").is_file() and "trained" in result.stdout
    assert (tmp_path / "demo" / "compress" / "scene.sog").is_file() and "web scene" in result.stdout
