"""The `spaceport` command: help lists every option with its default; errors are one line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from spaceport.cli import main
from spaceport.ingest.options import IngestOptions
from spaceport.sfm.options import SfmOptions


def spaceport(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spaceport.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_top_level_help_lists_the_commands():
    result = spaceport("--help")
    assert result.returncode == 0
    for command in ("run", "sfm", "ingest", "options"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["sfm", "run"])
def test_stage_help_lists_every_option_with_its_default(command):
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for model in (SfmOptions, IngestOptions):
        for name in model.model_fields:
            assert "--" + name.replace("_", "-") in text
    assert text.count("[default:") >= len(SfmOptions.model_fields) + len(IngestOptions.model_fields)


def test_missing_photos_give_one_line_and_exit_code(tmp_path):
    result = spaceport("sfm", str(tmp_path / "nowhere"), str(tmp_path / "sfm"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "nowhere" in lines[0]


def test_private_url_is_refused_from_the_command_line(tmp_path):
    result = spaceport("ingest", "http://169.254.169.254/latest/", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "refusing" in result.stderr and "Traceback" not in result.stderr


def test_bad_environment_value_names_the_variable(tmp_path):
    import os

    env = dict(os.environ, SPACEPORT_SFM_MAPPER="sideways")
    result = spaceport("sfm", str(tmp_path), str(tmp_path / "sfm"), env=env)
    assert result.returncode != 0
    assert "SPACEPORT_SFM_MAPPER" in result.stderr and "Traceback" not in result.stderr


def test_out_of_range_option_is_a_clear_error(tmp_path):
    result = spaceport("sfm", str(tmp_path), str(tmp_path / "sfm"), "--min-registered-fraction", "1.5")
    assert result.returncode == 1
    assert "min_registered_fraction" in result.stderr and "Traceback" not in result.stderr


def test_run_from_compress_takes_a_ply(tmp_path):
    from sog_support import synthetic_splats
    from spaceport.sog import read_sog
    from spaceport.splat.ply import write_ply

    write_ply(tmp_path / "scene.ply", synthetic_splats(800, bands=0, seed=1))
    result = spaceport("run", str(tmp_path / "scene.ply"), str(tmp_path / "job"), "--from", "compress")
    assert result.returncode == 0, result.stderr
    assert f"train: 3DGS PLY from {tmp_path / 'scene.ply'} (800 splats)" in result.stdout
    assert "web scene:" in result.stdout and len(read_sog(tmp_path / "job" / "compress" / "scene.sog")) == 800


def test_run_from_train_refuses_photos_naming_what_is_missing(tmp_path, make_photo):
    for index in range(3):
        make_photo(tmp_path / "photos" / f"{index}.jpg", seed=index)
    result = spaceport("run", str(tmp_path / "photos"), str(tmp_path / "job"), "--from", "train")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: photos has no sparse/0/cameras.bin or cameras.txt: a COLMAP dataset holds "
        "sparse/0/{cameras,images,points3D}.bin (or .txt) and images/, at the top or in one folder"
    ]
