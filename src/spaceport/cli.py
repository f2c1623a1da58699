"""The `spaceport` command: parses arguments and calls the library; nothing else."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from spaceport import __version__, ingest, pipeline, sfm
from spaceport.cli_support import friendly_errors, model_options, pick, run_with_progress
from spaceport.ingest.options import IngestOptions
from spaceport.sfm.options import SfmOptions


EXAMPLE_PHOTOS = Path(__file__).parent / "examples" / "brighton_beach" / "images"


def quiet_colmap(verbose: bool) -> None:
    import pycolmap

    pycolmap.logging.minloglevel = 0 if verbose else 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="spaceport")
def main() -> None:
    """Spaceport: drone photos to 3D scenes for the web.

    PHOTOS is a folder, a ZIP archive, or an http(s):// or s3:// URL of JPEG, PNG or TIFF photos.
    Every option can also be set by the environment variable named in its help.
    """


@main.command("ingest")
@click.argument("photos")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@model_options(IngestOptions, "ingest")
@friendly_errors
def ingest_command(photos: str, out_dir: Path, **values) -> None:
    """Check and unpack PHOTOS into OUT_DIR, with each photo's camera and GPS in report.json."""
    options = pick(IngestOptions, "ingest", values)
    report = run_with_progress("ingest", lambda progress: ingest.run(photos, out_dir, options, progress))
    click.echo(f"{len(report.images)} photos ({len(report.gps_images)} with GPS) in {out_dir}; {len(report.skipped)} skipped")


@main.command("sfm")
@click.argument("photos")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@model_options(SfmOptions, "sfm")
@model_options(IngestOptions, "ingest")
@click.option("--verbose", is_flag=True, help="Show COLMAP's own log.")
@friendly_errors
def sfm_command(photos: str, out_dir: Path, verbose: bool, **values) -> None:
    """Structure from motion: camera poses and sparse points of PHOTOS, written to OUT_DIR
    (sparse/0/*.bin, undistorted images/, report.json)."""
    quiet_colmap(verbose)
    ingest_options = pick(IngestOptions, "ingest", values)
    sfm_options = pick(SfmOptions, "sfm", values)
    staged = out_dir / ".input"

    def work(progress):
        ingest.run(photos, staged, ingest_options, progress.span(0.0, 0.05))
        report = sfm.run(staged, out_dir, sfm_options, progress.span(0.05, 1.0))
        pipeline.write_manifest(out_dir, "sfm", sfm_options, report)
        return report

    try:
        report = run_with_progress("sfm", work)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    click.echo(summary_line(report))


@main.command("run")
@click.argument("photos")
@click.argument("job_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "from_stage", type=click.Choice(pipeline.STAGES), default=None, help="Redo this stage and the ones after it.")
@model_options(SfmOptions, "sfm")
@model_options(IngestOptions, "ingest")
@click.option("--verbose", is_flag=True, help="Show COLMAP's own log.")
@friendly_errors
def run_command(photos: str, job_dir: Path, from_stage: str | None, verbose: bool, **values) -> None:
    """Run the whole job on PHOTOS in JOB_DIR (images/, sfm/, ...); finished stages are skipped."""
    quiet_colmap(verbose)
    options = pipeline.JobOptions(ingest=pick(IngestOptions, "ingest", values), sfm=pick(SfmOptions, "sfm", values))
    run_job(photos, job_dir, from_stage, options)


@main.command("demo")
@click.argument("job_dir", type=click.Path(file_okay=False, path_type=Path), default="demo-output")
@click.option("--verbose", is_flag=True, help="Show COLMAP's own log.")
@friendly_errors
def demo_command(job_dir: Path, verbose: bool) -> None:
    """Run the whole job on the built-in example (18 drone photos of Brighton Beach) in JOB_DIR."""
    quiet_colmap(verbose)
    run_job(str(EXAMPLE_PHOTOS), job_dir, None, pipeline.JobOptions())


def run_job(photos: str, job_dir: Path, from_stage: str | None, options: pipeline.JobOptions) -> None:
    if from_stage:
        pipeline.rerun_from(job_dir, from_stage)
    manifests = run_with_progress("job", lambda progress: pipeline.run_job(photos, job_dir, options, progress))
    click.echo(summary_line(sfm.SfmReport.model_validate(manifests["sfm"]["report"])))
    click.echo(f"job folder: {job_dir}")


def summary_line(report: sfm.SfmReport) -> str:
    gps = f", GPS residual {report.gps_residual_m:.2f} m" if report.gps_residual_m is not None else ""
    return (
        f"registered {report.images_registered}/{report.images_total} photos, {report.points} points, "
        f"reprojection error {report.mean_reprojection_error_px:.2f} px, {report.mapper} mapper, "
        f"{report.matching} matching, {report.frame} frame{gps}, {sum(report.seconds.values()):.1f} s"
    )


@main.command("options")
def options_command() -> None:
    """Print every stage option with its type, default and help, as JSON."""
    click.echo(json.dumps(pipeline.JobOptions.model_json_schema(), indent=2))


if __name__ == "__main__":
    main()
