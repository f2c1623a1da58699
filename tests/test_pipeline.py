"""The job folder: stages in order, finished stages skipped on re-run, re-run from a stage,
and jobs that start at training from a COLMAP dataset or at compression from a PLY."""

from __future__ import annotations

import shutil
import zipfile

import pycolmap
import pytest

from datasets import write_plain_ply, zip_tree
from scenes import make_drone_scene
from sog_support import synthetic_splats
from spaceport import pipeline
from spaceport.errors import InputError
from spaceport.ingest.options import IngestOptions
from spaceport.pipeline.supplied import import_colmap
from spaceport.progress import Progress
from spaceport.sog import read_sog
from spaceport.splat.options import TrainOptions
from spaceport.splat.ply import write_ply

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


def test_job_starts_at_train_from_a_colmap_dataset_zip(colmap_dataset, tmp_path):
    archive = zip_tree(colmap_dataset, tmp_path / "dataset.zip", prefix="survey")
    job = tmp_path / "job"
    seen = []
    manifests = pipeline.run_job(archive, job, pipeline.JobOptions(train=TINY_TRAIN),
                                 Progress(lambda fraction, message: seen.append(fraction)), start="train")
    assert list(manifests) == ["sfm", "train", "compress"] and not (job / "images").exists()
    assert manifests["sfm"]["supplied"] and not manifests["train"]["supplied"]
    assert manifests["sfm"]["report"]["images"] == 6 and manifests["sfm"]["report"]["kind"] == "colmap"
    assert {"cameras.bin", "images.bin", "points3D.bin"} <= {path.name for path in (job / "sfm" / "sparse" / "0").iterdir()}
    assert len(list((job / "sfm" / "images").iterdir())) == 6
    assert manifests["train"]["report"]["images_train"] + manifests["train"]["report"]["images_test"] == 6
    assert len(read_sog(job / "compress" / "scene.sog")) == manifests["train"]["report"]["gaussians"]
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert archive.is_file()  # the user's input is kept


def test_a_text_model_directly_in_sparse_is_imported_as_binary(colmap_dataset, tmp_path):
    folder = tmp_path / "txt-dataset"
    (folder / "sparse").mkdir(parents=True)
    pycolmap.Reconstruction(str(colmap_dataset / "sparse" / "0")).write_text(str(folder / "sparse"))
    shutil.copytree(colmap_dataset / "images", folder / "images")
    report = import_colmap(folder, tmp_path / "sfm", IngestOptions(), Progress())
    assert report.images == 6 and report.points > 50
    model = pycolmap.Reconstruction(str(tmp_path / "sfm" / "sparse" / "0"))
    assert (tmp_path / "sfm" / "sparse" / "0" / "cameras.bin").is_file() and model.num_reg_images() == 6
    assert len(list((folder / "images").iterdir())) == 6  # copied, not moved out of the user's folder


@pytest.mark.parametrize(
    ("prefix", "skip", "message"),
    [
        ("", ("sparse/",), "dataset.zip has no sparse/0/cameras.bin or cameras.txt"),
        ("survey", ("sparse/0/points3D",), "dataset.zip has no survey/sparse/0/points3D.bin or points3D.txt"),
        ("survey", ("images/",), "dataset.zip has no survey/images/ folder"),
        ("survey", ("images/IMG_0003",), "dataset.zip: survey/images/ lacks 1 of the model's 6 photos: IMG_0003.jpg"),
    ],
)
def test_a_bad_colmap_dataset_fails_naming_the_file(colmap_dataset, tmp_path, prefix, skip, message):
    archive = zip_tree(colmap_dataset, tmp_path / "dataset.zip", prefix=prefix, skip=skip)
    job = tmp_path / "job"
    with pytest.raises(InputError) as error:
        pipeline.run_job(archive, job, pipeline.JobOptions(train=TINY_TRAIN), Progress(), start="train")
    assert message in str(error.value)
    assert not (job / "sfm" / "manifest.json").exists() and not (job / "sfm" / ".staging").exists()


def test_a_damaged_model_an_unsafe_archive_and_a_non_zip_are_refused(colmap_dataset, tmp_path):
    broken = tmp_path / "broken"
    (broken / "sparse" / "0").mkdir(parents=True)
    shutil.copytree(colmap_dataset / "images", broken / "images")
    for stem in ("cameras", "images", "points3D"):
        (broken / "sparse" / "0" / f"{stem}.bin").write_bytes(b"\x07" * 40)
    with pytest.raises(InputError, match="broken: sparse/0 is not a readable COLMAP model"):
        import_colmap(broken, tmp_path / "sfm", IngestOptions(), Progress())
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../sparse/0/cameras.bin", b"x")
    with pytest.raises(InputError, match="slip.zip: entry '../sparse/0/cameras.bin' points outside the archive"):
        import_colmap(slip, tmp_path / "sfm", IngestOptions(), Progress())
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="notes.txt is not a ZIP archive"):
        import_colmap(tmp_path / "notes.txt", tmp_path / "sfm", IngestOptions(), Progress())


def test_job_starts_at_compress_from_a_zip_holding_a_ply(tmp_path):
    write_ply(tmp_path / "splats.ply", synthetic_splats(1500, bands=1, seed=3))
    archive = tmp_path / "scene.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tmp_path / "splats.ply", "export/splats.ply")
        zf.writestr("export/README.txt", "made elsewhere")
    job = tmp_path / "job"
    manifests = pipeline.run_job(archive, job, pipeline.JobOptions(), Progress(), start="compress")
    assert list(manifests) == ["train", "compress"] and manifests["train"]["report"]["points"] == 1500
    assert len(read_sog(job / "compress" / "scene.sog")) == 1500


def test_a_bad_ply_fails_naming_the_file_and_the_property(tmp_path):
    job = tmp_path / "job"
    with pytest.raises(InputError, match="scene.ply: not a 3D Gaussian Splatting PLY, the vertex properties f_dc_0"):
        pipeline.run_job(write_plain_ply(tmp_path / "scene.ply"), job, pipeline.JobOptions(), Progress(), start="compress")
    assert not (job / "train" / "manifest.json").exists()
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.ply", b"ply\n")
        zf.writestr("b.ply", b"ply\n")
    with pytest.raises(InputError, match="two.zip holds 2 .ply files: a.ply, b.ply; it must hold exactly one"):
        pipeline.run_job(two, job, pipeline.JobOptions(), Progress(), start="compress")
    with pytest.raises(InputError, match="unknown start stage 'paint'"):
        pipeline.run_job(two, job, pipeline.JobOptions(), Progress(), start="paint")


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
