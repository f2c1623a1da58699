"""The `spaceport` command: parses arguments and calls the library; nothing else."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from spaceport import __version__, flightplan, ingest, pipeline, sfm, sog
from spaceport.config import ServiceSettings
from spaceport.cli_support import friendly_errors, model_options, pick, run_with_progress
from spaceport.ingest.options import IngestOptions
from spaceport.sfm.options import SfmOptions
from spaceport.sog.options import SogOptions
from spaceport.splat.options import TrainOptions


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


@main.command("train")
@click.argument("sfm_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@model_options(TrainOptions, "train")
@friendly_errors
def train_command(sfm_dir: Path, out_dir: Path, **values) -> None:
    """Train 3D Gaussians on the COLMAP dataset SFM_DIR (sparse/0 + images/), written to
    OUT_DIR (scene.ply, metrics.json, previews/); an interrupted run resumes."""
    from spaceport import splat

    options = pick(TrainOptions, "train", values)
    report = run_with_progress("train", lambda progress: splat.run(sfm_dir, out_dir, options, progress))
    pipeline.write_manifest(out_dir, "train", options, report)
    click.echo(train_line(report))


def train_line(report) -> str:
    quality = f"held-out PSNR {report.psnr:.2f} dB, SSIM {report.ssim:.3f}" if report.psnr is not None else "no held-out views"
    return (f"trained {report.gaussians} Gaussians in {report.iterations} steps on {report.device}, {quality}, "
            f"{report.seconds:.0f} s ({report.seconds_per_iteration:.3f} s/step), peak memory {report.peak_memory_mb:.0f} MB")


@main.command("run")
@click.argument("source")
@click.argument("job_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "from_stage", type=click.Choice(pipeline.STAGES), default=None,
              help="Redo this stage and the ones after it; with train, SOURCE may be a COLMAP dataset, "
                   "with compress a 3DGS PLY.")
@model_options(SogOptions, "compress")
@model_options(TrainOptions, "train")
@model_options(SfmOptions, "sfm")
@model_options(IngestOptions, "ingest")
@click.option("--verbose", is_flag=True, help="Show COLMAP's own log.")
@friendly_errors
def run_command(source: str, job_dir: Path, from_stage: str | None, verbose: bool, **values) -> None:
    """Run the job on SOURCE in JOB_DIR (images/, sfm/, train/, compress/); finished stages are skipped.

    SOURCE is photos (a folder, ZIP or URL). With --from train it may instead be a COLMAP
    dataset (a folder, ZIP or URL holding sparse/0/ and images/), and with --from compress a
    3DGS PLY (or a ZIP holding one); it is read only when JOB_DIR lacks the stage before.
    """
    quiet_colmap(verbose)
    options = pipeline.JobOptions(
        ingest=pick(IngestOptions, "ingest", values), sfm=pick(SfmOptions, "sfm", values),
        train=pick(TrainOptions, "train", values), compress=pick(SogOptions, "compress", values),
    )
    run_job(source, job_dir, from_stage, options)


@main.command("demo")
@click.argument("job_dir", type=click.Path(file_okay=False, path_type=Path), default="demo-output")
@click.option("--verbose", is_flag=True, help="Show COLMAP's own log.")
@friendly_errors
def demo_command(job_dir: Path, verbose: bool) -> None:
    """Run the whole job on the built-in example (18 drone photos of Brighton Beach) in JOB_DIR
    (options from the SPACEPORT_* environment variables)."""
    quiet_colmap(verbose)
    options = pipeline.JobOptions(
        ingest=pick(IngestOptions, "ingest", {}), sfm=pick(SfmOptions, "sfm", {}), train=pick(TrainOptions, "train", {}),
        compress=pick(SogOptions, "compress", {}),
    )
    run_job(str(EXAMPLE_PHOTOS), job_dir, None, options)


def run_job(source: str, job_dir: Path, from_stage: str | None, options: pipeline.JobOptions) -> None:
    """Run the job from `from_stage` (None: resume) and print one line per stage and the web scene."""
    if from_stage:
        pipeline.rerun_from(job_dir, from_stage)
    start = from_stage or "images"
    manifests = run_with_progress("job", lambda progress: pipeline.run_job(source, job_dir, options, progress, start=start))
    for name, manifest in manifests.items():
        line = stage_line(name, manifest, job_dir)
        if line:
            click.echo(line)
    click.echo(f"job folder: {job_dir}")


SUPPLIED_KINDS = {"colmap": "COLMAP dataset", "ply": "3DGS PLY"}


def stage_line(name: str, manifest: dict, job_dir: Path) -> str | None:
    """One line saying what a finished stage of the job in `job_dir` made or was given (None for the photos)."""
    from spaceport.splat.options import TrainReport

    report = manifest["report"]
    if manifest.get("supplied"):
        held = f"{report['images']} images, {report['points']} points" if report["kind"] == "colmap" else f"{report['points']} splats"
        return f"{name}: {SUPPLIED_KINDS[report['kind']]} from {report['source']} ({held})"
    if name == "sfm":
        return summary_line(sfm.SfmReport.model_validate(report))
    if name == "train":
        return train_line(TrainReport.model_validate(report))
    if name == "compress":
        return (f"web scene: {job_dir / 'compress' / 'scene.sog'} ({report['output_bytes'] / 1e6:.2f} MB, "
                f"{report['ratio']:.1f}x smaller than the PLY)")
    return None


def summary_line(report: sfm.SfmReport) -> str:
    gps = f", GPS residual {report.gps_residual_m:.2f} m" if report.gps_residual_m is not None else ""
    return (
        f"registered {report.images_registered}/{report.images_total} photos, {report.points} points, "
        f"reprojection error {report.mean_reprojection_error_px:.2f} px, {report.mapper} mapper, "
        f"{report.matching} matching, {report.frame} frame{gps}, {sum(report.seconds.values()):.1f} s"
    )


@main.command("compress")
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@model_options(SogOptions, "compress")
@friendly_errors
def compress_command(src: Path, out_dir: Path, **values) -> None:
    """Compress SRC (a 3DGS PLY, or a train/ folder with scene.ply) into OUT_DIR/scene.sog
    (PlayCanvas SOG v2) with sizes, errors and timings in OUT_DIR/report.json."""
    options = pick(SogOptions, "compress", values)
    report = run_with_progress("compress", lambda progress: sog.run(src, out_dir, options, progress))
    errors = report.errors
    click.echo(
        f"{report.splats} splats, {report.input_bytes / 1e6:.1f} MB -> {report.output_bytes / 1e6:.2f} MB "
        f"({report.ratio:.1f}x), position error {errors['position_m'].mean * 1000:.2f} mm mean, "
        f"rotation {errors['rotation_deg'].mean:.2f} deg mean, {sum(report.seconds.values()):.1f} s"
    )


@main.command("decompress")
@click.argument("scene", type=click.Path(path_type=Path))
@click.argument("out_ply", type=click.Path(dir_okay=False, path_type=Path))
@friendly_errors
def decompress_command(scene: Path, out_ply: Path) -> None:
    """Decode SCENE (a .sog bundle, or a folder / meta.json of the unbundled form) into the 3DGS PLY OUT_PLY."""
    splats = sog.decompress(scene, out_ply)
    click.echo(f"{len(splats)} splats with {splats.sh_bands} SH bands written to {out_ply}")


@main.command("serve")
@model_options(ServiceSettings, "")
@friendly_errors
def serve_command(**values) -> None:
    """Run the REST API and the job executor (API docs at /docs)."""
    import uvicorn

    from spaceport.api import create_app

    settings = pick(ServiceSettings, "", values)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


def service_sessions(data_dir: str | None, database_url: str | None):
    from spaceport.jobs.db import open_database

    settings = pick(ServiceSettings, "", {"data_dir": data_dir, "database_url": database_url})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_database(settings.database())


def service_location(command):
    command = click.option("--database-url", default=None, help="Database URL [env SPACEPORT_DATABASE_URL].")(command)
    return click.option("--data-dir", default=None, help="Service data folder [env SPACEPORT_DATA_DIR].")(command)


@main.group("users")
def users_group() -> None:
    """Service accounts."""


@users_group.command("create")
@click.argument("name")
@service_location
@friendly_errors
def users_create(name: str, data_dir: str | None, database_url: str | None) -> None:
    """Create user NAME; prints the API token (shown once) on the last line."""
    from spaceport.jobs.store import create_user

    with service_sessions(data_dir, database_url)() as session:
        user, token = create_user(session, name)
    click.echo(f"created user '{user.name}' (id {user.id}); API token:")
    click.echo(token)


@main.group("jobs")
def jobs_group() -> None:
    """Jobs in the service's database."""


@jobs_group.command("list")
@click.option("--status", default=None, help="Only jobs with this status.")
@service_location
@friendly_errors
def jobs_list(status: str | None, data_dir: str | None, database_url: str | None) -> None:
    """One line per job: id, status, progress, stage, name."""
    from sqlalchemy import select

    from spaceport.jobs.models import Job

    with service_sessions(data_dir, database_url)() as session:
        query = select(Job).order_by(Job.created_at)
        for job in session.scalars(query.where(Job.status == status) if status else query):
            click.echo(f"{job.id}  {job.status:9}  {job.progress:5.1f}%  {job.stage or '-':7}  {job.name}")


def find_job(session, job_id: str):
    from spaceport.errors import InputError
    from spaceport.jobs.models import Job

    job = session.get(Job, job_id)
    if job is None:
        raise InputError(f"no job '{job_id}'")
    return job


@jobs_group.command("show")
@click.argument("job_id")
@service_location
@friendly_errors
def jobs_show(job_id: str, data_dir: str | None, database_url: str | None) -> None:
    """A job's record as JSON."""
    from spaceport.jobs.executor import job_summary

    with service_sessions(data_dir, database_url)() as session:
        record = job_summary(find_job(session, job_id))
    record.pop("webhook_secret")
    click.echo(json.dumps(record, indent=2))


@jobs_group.command("stop")
@click.argument("job_id")
@service_location
@friendly_errors
def jobs_stop(job_id: str, data_dir: str | None, database_url: str | None) -> None:
    """Ask the service to stop a job (the running server signals its process group)."""
    from spaceport.jobs.store import request_stop

    with service_sessions(data_dir, database_url)() as session:
        request_stop(session, find_job(session, job_id))
    click.echo(f"stop requested for job {job_id}")


def plan_option(model: type, field: str, *flags: str, **kwargs) -> callable:
    """A click option for `model.field`, help and default from the model (None when left out)."""
    info = model.model_fields[field]
    default = "" if info.is_required() else f" [default: {info.default}]"
    return click.option(*flags, field, default=None, help=f"{info.description}{default}", **kwargs)


def mission_options(command):
    """Options every mission shares: camera, altitude or GSD, speed, batteries, output."""
    model = flightplan.GridOptions
    for decorate in reversed([
        plan_option(model, "camera", "--camera", type=str),
        plan_option(model, "altitude_m", "--altitude", type=float),
        plan_option(model, "gsd_cm", "--gsd", type=float),
        plan_option(model, "speed_m_s", "--speed", type=float),
        plan_option(model, "allow_high_altitude", "--allow-high-altitude", flag_value=True),
        plan_option(model, "battery_minutes", "--battery-minutes", type=float),
        plan_option(model, "photo_overhead_s", "--photo-overhead", type=float),
        plan_option(model, "max_waypoints", "--max-waypoints", type=int),
        click.option("--format", "export_format", type=click.Choice(list(flightplan.FORMATS)), default="litchi",
                     show_default=True, help="Export format (with -o)."),
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write the mission here (numbered files when it is split)."),
    ]):
        command = decorate(command)
    return command


def plan_and_write(model: type, values: dict, export_format: str, output: Path | None) -> None:
    """Validate the request, plan, print the summary, write the export."""
    request = flightplan.parse(model, {key: value for key, value in values.items() if value is not None})
    plan = flightplan.plan_mission(request)
    click.echo(plan.summary.text())
    if output is not None:
        for path in flightplan.write(plan, export_format, output):
            click.echo(f"wrote {path}")


@main.group("plan")
def plan_group() -> None:
    """Plan a capture flight and export it for Litchi, DJI apps (WPML), Google Earth (KML) or GIS (GeoJSON)."""


@plan_group.command("grid")
@click.argument("polygon")
@mission_options
@plan_option(flightplan.GridOptions, "front_overlap_percent", "--front", type=float)
@plan_option(flightplan.GridOptions, "side_overlap_percent", "--side", type=float)
@plan_option(flightplan.GridOptions, "angle_deg", "--angle", type=float)
@plan_option(flightplan.GridOptions, "double_grid", "--double-grid", flag_value=True)
@plan_option(flightplan.GridOptions, "gimbal_pitch_deg", "--gimbal-pitch", type=float)
@plan_option(flightplan.GridOptions, "oblique_pitch_deg", "--oblique-pitch", type=float)
@plan_option(flightplan.GridOptions, "turnaround_m", "--turnaround", type=float)
@friendly_errors
def plan_grid_command(polygon: str, export_format: str, output: Path | None, **values) -> None:
    """Survey lines over POLYGON (a GeoJSON file, WGS84), photos along them."""
    values["polygon"] = flightplan.load_geojson(polygon)
    plan_and_write(flightplan.GridOptions, values, export_format, output)


@plan_group.command("orbit")
@mission_options
@plan_option(flightplan.OrbitOptions, "latitude", "--lat", type=float, required=True)
@plan_option(flightplan.OrbitOptions, "longitude", "--lon", type=float, required=True)
@plan_option(flightplan.OrbitOptions, "radius_m", "--radius", type=float, required=True)
@plan_option(flightplan.OrbitOptions, "target_altitude_m", "--target-altitude", type=float)
@plan_option(flightplan.OrbitOptions, "angle_step_deg", "--step", type=float)
@plan_option(flightplan.OrbitOptions, "rings", "--rings", type=int)
@plan_option(flightplan.OrbitOptions, "ring_spacing_m", "--ring-spacing", type=float)
@plan_option(flightplan.OrbitOptions, "start_bearing_deg", "--start-bearing", type=float)
@click.option("--counterclockwise", "clockwise", flag_value=False, default=None, help="Fly counterclockwise (default: clockwise).")
@friendly_errors
def plan_orbit_command(export_format: str, output: Path | None, **values) -> None:
    """Rings around a point of interest (--lat, --lon), the camera aimed at it."""
    plan_and_write(flightplan.OrbitOptions, values, export_format, output)


@main.command("options")
def options_command() -> None:
    """Print every stage option with its type, default and help, as JSON."""
    click.echo(json.dumps(pipeline.JobOptions.model_json_schema(), indent=2))


if __name__ == "__main__":
    main()
