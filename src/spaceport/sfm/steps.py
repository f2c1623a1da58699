"""The COLMAP steps of structure from motion, each callable alone (through pycolmap).

Each step reads and writes the COLMAP database at `database`; images are named as in the
ingest report and live in `image_dir`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pycolmap

from spaceport.errors import StageError
from spaceport.ingest.options import ImageInfo
from spaceport.progress import Progress
from spaceport.sfm.options import Mapper, Matching, SfmOptions

EXTRACTION_BATCHES = 20


def group_by_camera(images: list[ImageInfo]) -> list[list[str]]:
    """Image names grouped by physical camera (make, model, size, focal), in first-seen order."""
    groups: dict[tuple, list[str]] = {}
    for image in images:
        groups.setdefault(image.camera_key(), []).append(image.name)
    return list(groups.values())


def create_database(database: Path, image_dir: Path, images: list[ImageInfo], options: SfmOptions) -> None:
    """New database holding one camera per physical camera and every image (GPS priors from EXIF)."""
    database.unlink(missing_ok=True)
    pycolmap.Database.open(str(database)).close()
    reader = pycolmap.ImageReaderOptions(camera_model=options.camera_model)
    for names in group_by_camera(images):
        pycolmap.import_images(
            str(database), str(image_dir), camera_mode=pycolmap.CameraMode.SINGLE, image_names=names, options=reader
        )


def extract_features(database: Path, image_dir: Path, names: list[str], options: SfmOptions, progress: Progress) -> None:
    """SIFT features for every image, in batches so progress and cancellation are seen."""
    extraction = pycolmap.FeatureExtractionOptions(max_image_size=options.max_image_size, num_threads=options.num_threads)
    extraction.sift.max_num_features = options.max_num_features
    extraction.sift.first_octave = 0  # no upsampling: drone photos have plenty of resolution
    batch = max(1, -(-len(names) // EXTRACTION_BATCHES))
    for start in range(0, len(names), batch):
        progress.raise_if_cancelled()
        token = pycolmap.CancellationToken()
        with progress.forward_cancel(token.cancel):
            pycolmap.extract_features(
                str(database),
                str(image_dir),
                image_names=names[start : start + batch],
                extraction_options=extraction,
                device=pycolmap.Device.cpu,
                cancellation_token=token,
            )
        progress.raise_if_cancelled()
        done = min(start + batch, len(names))
        progress.update(done / len(names), f"extracted features of {done}/{len(names)} photos")


def choose_matching(options: SfmOptions, count: int, gps_count: int) -> Matching:
    """The matching method: the option, or for auto: spatial with GPS, exhaustive for small sets, else sequential."""
    if options.matching != "auto":
        return options.matching
    if gps_count >= max(3, count // 2):
        return "spatial"
    return "exhaustive" if count <= options.exhaustive_max_images else "sequential"


def match_features(database: Path, method: Matching, count: int, options: SfmOptions, progress: Progress) -> int:
    """Match and verify image pairs; returns the number of verified pairs."""
    matching = pycolmap.FeatureMatchingOptions(num_threads=options.num_threads)
    token = pycolmap.CancellationToken()
    progress.update(0.0, f"matching features ({method})")
    with progress.forward_cancel(token.cancel):
        if method == "spatial":
            pairing = pycolmap.SpatialPairingOptions(
                max_num_neighbors=min(options.spatial_neighbors, count - 1), max_distance=1e9, ignore_z=True
            )
            pycolmap.match_spatial(str(database), matching, pairing, device=pycolmap.Device.cpu, cancellation_token=token)
        elif method == "sequential":
            pairing = pycolmap.SequentialPairingOptions(overlap=options.sequential_overlap)
            pycolmap.match_sequential(str(database), matching, pairing, device=pycolmap.Device.cpu, cancellation_token=token)
        else:
            pycolmap.match_exhaustive(str(database), matching, device=pycolmap.Device.cpu, cancellation_token=token)
    progress.raise_if_cancelled()
    with pycolmap.Database.open(str(database)) as db:
        pairs = db.num_verified_image_pairs()
    progress.update(1.0, f"matched {pairs} image pairs")
    return pairs


def map_images(
    database: Path, image_dir: Path, work: Path, mapper: Mapper, use_gps: bool, count: int,
    options: SfmOptions, progress: Progress,
) -> pycolmap.Reconstruction:
    """Run one COLMAP mapper; returns its largest reconstruction (StageError if none)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    progress.update(0.0, f"mapping ({mapper})")
    if mapper == "incremental":
        reconstructions = map_incremental(database, image_dir, work, use_gps, count, options, progress)
    else:
        pipeline = pycolmap.GlobalPipelineOptions(num_threads=options.num_threads, random_seed=options.seed)
        reconstructions = pycolmap.global_mapping(str(database), str(image_dir), str(work), pipeline)
    progress.raise_if_cancelled()
    if not reconstructions:
        raise StageError(f"the {mapper} mapper could not register any images: the photos may not overlap enough")
    return max(reconstructions.values(), key=lambda reconstruction: reconstruction.num_reg_images())


def map_incremental(database, image_dir, work, use_gps, count, options, progress) -> dict:
    """COLMAP's incremental mapper, with GPS position priors when `use_gps`; reports each new image."""
    pipeline = pycolmap.IncrementalPipelineOptions(
        num_threads=options.num_threads, random_seed=options.seed, use_prior_position=use_gps,
        use_robust_loss_on_prior_position=use_gps,
    )
    registered = [0]

    def on_next_image() -> None:
        registered[0] += 1
        progress.update(registered[0] / count, f"registered {registered[0]}/{count} photos (incremental)")

    token = pycolmap.CancellationToken()
    with progress.forward_cancel(token.cancel):
        return pycolmap.incremental_mapping(
            str(database), str(image_dir), str(work), pipeline,
            next_image_callback=on_next_image, cancellation_token=token,
        )


def undistort(
    reconstruction: pycolmap.Reconstruction, image_dir: Path, dst: Path, work: Path, options: SfmOptions, progress: Progress
) -> None:
    """Undistorted images into `dst/images` (longest side <= undistort_max_size) and the
    matching pinhole model into `dst/sparse/0`."""
    model_dir, out_dir = work / "model", work / "undistorted"
    for folder in (model_dir, out_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    reconstruction.write(str(model_dir))
    camera = pycolmap.UndistortCameraOptions(max_image_size=options.undistort_max_size)
    token = pycolmap.CancellationToken()
    progress.update(0.0, "undistorting images")
    with progress.forward_cancel(token.cancel):
        pycolmap.undistort_images(
            str(out_dir), str(model_dir), str(image_dir), undistort_options=camera,
            num_threads=options.num_threads, cancellation_token=token,
        )
    progress.raise_if_cancelled()
    for name in ("images", "sparse"):
        shutil.rmtree(dst / name, ignore_errors=True)
    shutil.move(out_dir / "images", dst / "images")
    (dst / "sparse").mkdir()
    shutil.move(out_dir / "sparse", dst / "sparse" / "0")
    progress.update(1.0, "undistorted images")
