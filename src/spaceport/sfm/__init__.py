"""Structure from motion: ingested photos -> camera poses, sparse points, undistorted images.

`run(src, dst, options, progress)` reads the photos and `report.json` of an ingest folder
`src` and writes into `dst`: `sparse/0/{cameras,images,points3D}.bin` (pinhole cameras,
metric ENU frame when GPS is present), `images/` (undistorted), `database.db` and
`report.json`. A mapping result is validated (registered fraction, GPS residual); a bad
one is retried with the other mapper, then refused with a clear message.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pycolmap

from spaceport.errors import StageError
from spaceport.ingest import load_report
from spaceport.ingest.options import ImageInfo
from spaceport.progress import Progress
from spaceport.sfm import geo, steps
from spaceport.sfm.options import MapperAttempt, SfmOptions, SfmReport

__all__ = ["run", "SfmOptions", "SfmReport"]

WORK = ".work"
MIN_GPS_INLIER_M = 5.0  # consumer GNSS is good to a few metres: closer agreement is not required of inliers


def run(src: Path, dst: Path, options: SfmOptions, progress: Progress) -> SfmReport:
    """Structure from motion on the ingest folder `src`, written to `dst` (see module docstring)."""
    pycolmap.set_random_seed(options.seed)
    images = load_report(src).images
    names = [image.name for image in images]
    gps_images = [image for image in images if image.has_gps]
    dst.mkdir(parents=True, exist_ok=True)
    work, database = dst / WORK, dst / "database.db"
    seconds: dict[str, float] = {}

    with timed(seconds, "extract"):
        steps.create_database(database, src, images, options)
        steps.extract_features(database, src, names, options, progress.span(0.0, 0.35))
    matching = steps.choose_matching(options, len(images), len(gps_images))
    with timed(seconds, "match"):
        pairs = steps.match_features(database, matching, len(images), options, progress.span(0.35, 0.6))
    with timed(seconds, "map"):
        reconstruction, attempts, frame, warnings = map_and_validate(
            database, src, work, images, options, progress.span(0.6, 0.9)
        )
    with timed(seconds, "undistort"):
        steps.undistort(reconstruction.model, src, dst, work, options, progress.span(0.9, 1.0))
    shutil.rmtree(work, ignore_errors=True)

    model = reconstruction.model
    report = SfmReport(
        images_total=len(images),
        images_registered=model.num_reg_images(),
        cameras=model.num_cameras(),
        points=model.num_points3D(),
        mean_reprojection_error_px=model.compute_mean_reprojection_error(),
        mean_track_length=model.compute_mean_track_length(),
        mapper=reconstruction.attempt.mapper,
        matching=matching,
        pairs_matched=pairs,
        frame=frame.kind,
        origin_wgs84=frame.origin,
        gps_residual_m=reconstruction.attempt.gps_residual_m,
        gps_residual_max_m=reconstruction.residual_max,
        attempts=attempts,
        warnings=warnings,
        seconds=seconds,
    )
    (dst / "report.json").write_text(report.model_dump_json(indent=2))
    return report


class timed:
    """Context manager adding the block's wall time, seconds, to `seconds[key]`."""

    def __init__(self, seconds: dict[str, float], key: str) -> None:
        self.seconds, self.key = seconds, key

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.seconds[self.key] = round(time.perf_counter() - self.started, 3)


class Candidate:
    """A mapping result with its validation."""

    def __init__(self, model: pycolmap.Reconstruction, attempt: MapperAttempt, residual_max: float | None) -> None:
        self.model, self.attempt, self.residual_max = model, attempt, residual_max

    def rank(self) -> tuple:
        residual = self.attempt.gps_residual_m
        return (self.attempt.accepted, self.attempt.images_registered, -(residual if residual is not None else 0.0))


class Frame:
    def __init__(self, kind: str, origin: tuple[float, float, float] | None) -> None:
        self.kind, self.origin = kind, origin


def map_and_validate(
    database: Path, image_dir: Path, work: Path, images: list[ImageInfo], options: SfmOptions, progress: Progress
) -> tuple[Candidate, list[MapperAttempt], Frame, list[str]]:
    """Map with the chosen mapper, validate, fall back to the other one if needed.

    Returns the chosen candidate (already in its final frame), all attempts, the frame,
    and warnings. Raises StageError when no attempt passes validation.
    """
    warnings: list[str] = []
    gps = gps_targets(images, warnings)
    mappers = [options.mapper] + ([other_mapper(options.mapper)] if options.fallback else [])
    candidates: list[Candidate] = []
    for mapper in mappers:
        started = time.perf_counter()
        model = steps.map_images(
            database, image_dir, work / mapper, mapper, gps is not None, len(images), options, progress
        )
        candidate = validate(model, mapper, len(images), gps, options, time.perf_counter() - started)
        candidates.append(candidate)
        if candidate.attempt.accepted:
            break
        warnings.append(f"{mapper} mapper result refused: {candidate.attempt.reason}")
    best = max(candidates, key=Candidate.rank)
    attempts = [candidate.attempt for candidate in candidates]
    if not best.attempt.accepted:
        tried = "; ".join(f"{a.mapper}: {a.reason}" for a in attempts)
        raise StageError(f"structure from motion failed validation ({tried}); take more overlapping photos or check their GPS")
    frame = finish_frame(best.model, gps)
    progress.update(1.0, f"{best.attempt.mapper} mapper registered {best.attempt.images_registered}/{len(images)} photos")
    return best, attempts, frame, warnings


def other_mapper(mapper: str) -> str:
    return "global" if mapper == "incremental" else "incremental"


class GpsTargets:
    """GPS positions of the photos in a local ENU frame around their mean position."""

    def __init__(self, names: list[str], enu: np.ndarray, origin: tuple[float, float, float]) -> None:
        self.names, self.enu, self.origin = names, enu, origin


def gps_targets(images: list[ImageInfo], warnings: list[str]) -> GpsTargets | None:
    """ENU positions of geotagged photos, or None when there are too few or they lie on a line."""
    tagged = [image for image in images if image.has_gps]
    if len(tagged) < 3:
        return None
    lla = np.array([[i.latitude, i.longitude, i.altitude or 0.0] for i in tagged])
    origin = tuple(float(v) for v in lla.mean(axis=0))
    enu = geo.to_enu(lla, origin)
    if geo.is_degenerate(enu):
        warnings.append("the GPS positions lie on a line, so they cannot fix the scene's orientation; using a normalized frame")
        return None
    return GpsTargets([image.name for image in tagged], enu, origin)


def validate(
    model: pycolmap.Reconstruction, mapper: str, total: int, gps: GpsTargets | None, options: SfmOptions, seconds: float
) -> Candidate:
    """Check registration and GPS agreement; with GPS, the model is left aligned to ENU."""
    registered = model.num_reg_images()
    reasons = []
    if registered < max(3, options.min_registered_fraction * total):
        reasons.append(
            f"registered {registered}/{total} photos, fewer than min_registered_fraction={options.min_registered_fraction:g}"
        )
    residual = residual_max = None
    if gps is not None and registered >= 3:
        residual, residual_max = align_to_gps(model, gps, options)
        if residual is None:
            reasons.append("the cameras could not be aligned to their GPS positions (too few agree)")
        elif residual > options.max_gps_residual_m:
            reasons.append(
                f"cameras are {residual:.1f} m (median) from their GPS positions, more than max_gps_residual_m={options.max_gps_residual_m:g}"
            )
    attempt = MapperAttempt(
        mapper=mapper, images_registered=registered, gps_residual_m=residual, accepted=not reasons,
        reason="; ".join(reasons), seconds=round(seconds, 3),
    )
    return Candidate(model, attempt, residual_max)


def align_to_gps(model: pycolmap.Reconstruction, gps: GpsTargets, options: SfmOptions) -> tuple[float | None, float | None]:
    """Align `model` to the GPS ENU positions; (median, max) residual in metres, or (None, None)."""
    registered = {model.images[i].name for i in model.reg_image_ids()}
    keep = [index for index, name in enumerate(gps.names) if name in registered]
    if len(keep) < 3 or geo.is_degenerate(gps.enu[keep]):
        return None, None
    names = [gps.names[index] for index in keep]
    inlier_m = max(2 * options.max_gps_residual_m, MIN_GPS_INLIER_M)
    distances = geo.align_to_positions(model, names, gps.enu[keep], inlier_m)
    if distances is None:
        return None, None
    return float(np.median(distances)), float(distances.max())


def finish_frame(model: pycolmap.Reconstruction, gps: GpsTargets | None) -> Frame:
    """ENU re-centred on the scene (origin at the sparse points' median) with GPS; else normalized."""
    if gps is None:
        geo.normalize(model)
        return Frame("normalized", None)
    centre = geo.points_center(model)
    geo.translate(model, -centre)
    origin = geo.to_wgs84(centre[None, :], gps.origin)[0]
    return Frame("enu", (float(origin[0]), float(origin[1]), float(origin[2])))
