"""Ingest: photos in from a folder, a ZIP, an http(s):// URL or an s3:// URL.

`run(source, dst, options, progress)` leaves the usable photos in `dst` under normalized
names (EXIF untouched), writes `dst/report.json` with each photo's metadata and every
skipped file with its reason, and returns the `IngestReport`.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from pathlib import Path, PurePosixPath

from spaceport.errors import InputError
from spaceport.ingest.archive import extract_zip
from spaceport.ingest.download import download, is_url
from spaceport.ingest.exif import IMAGE_SUFFIXES, BadImage, read_image
from spaceport.ingest.options import ImageInfo, IngestOptions, IngestReport, SkippedFile
from spaceport.progress import Progress

__all__ = ["run", "IngestOptions", "IngestReport", "ImageInfo", "load_report"]

STAGING = ".staging"
REPORT = "report.json"


def run(source: str | Path, dst: Path, options: IngestOptions, progress: Progress) -> IngestReport:
    """Bring the photos at `source` into `dst`, validated; see the module docstring."""
    started = time.perf_counter()
    dst.mkdir(parents=True, exist_ok=True)
    staging = dst / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    try:
        tree, move = unpack(str(source), staging, options, progress.span(0.0, 0.5))
        files, skipped = list_candidates(tree, options)
        images = accept_images(tree, files, dst, move, options, skipped, progress.span(0.5, 1.0))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if len(images) < options.min_images:
        raise InputError(not_enough_images(str(source), images, skipped, options))
    for item in skipped:
        warnings.warn(f"skipped {item.source}: {item.reason}", stacklevel=2)
    report = IngestReport(
        source=str(source),
        images=images,
        skipped=skipped,
        total_bytes=sum((dst / image.name).stat().st_size for image in images),
        seconds=time.perf_counter() - started,
    )
    (dst / REPORT).write_text(report.model_dump_json(indent=2))
    return report


def load_report(folder: Path) -> IngestReport:
    """The report an earlier `run` wrote into `folder`."""
    return IngestReport.model_validate(json.loads((folder / REPORT).read_text()))


def unpack(source: str, staging: Path, options: IngestOptions, progress: Progress) -> tuple[Path, bool]:
    """A local folder holding the photos, and whether its files may be moved (ours) or must be copied."""
    if is_url(source):
        fetched = download(source, staging / "download", options, progress.span(0.0, 0.7))
        if fetched.is_dir():
            return fetched, True
        return unpack_file(fetched, staging, options, progress.span(0.7, 1.0), source), True
    path = Path(source)
    if path.is_dir():
        return path, False
    if path.is_file():
        return unpack_file(path, staging, options, progress, source), True
    raise InputError(f"'{source}' is neither a folder, a file nor a URL (http://, https://, s3://)")


def unpack_file(path: Path, staging: Path, options: IngestOptions, progress: Progress, source: str) -> Path:
    """Unpack a ZIP into staging; anything else is refused with what to do instead."""
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic[:2] != b"PK":
        raise InputError(f"'{source}' is not a ZIP archive; give a ZIP of photos or a folder of photos")
    target = staging / "unpacked"
    extract_zip(path, target, options, progress)
    return target


def is_ignored(relative: PurePosixPath) -> bool:
    """Hidden files and folders, and the resource forks macOS puts into archives."""
    return any(part.startswith(".") or part == "__MACOSX" for part in relative.parts)


def list_candidates(tree: Path, options: IngestOptions) -> tuple[list[PurePosixPath], list[SkippedFile]]:
    """Photo-like files under `tree` (sorted), and the other files with why they were skipped."""
    candidates: list[PurePosixPath] = []
    skipped: list[SkippedFile] = []
    count = 0
    for path in sorted(tree.rglob("*")):
        relative = PurePosixPath(path.relative_to(tree).as_posix())
        if is_ignored(relative) or path.is_dir():
            continue
        count += 1
        if count > options.max_files:
            raise InputError(f"'{tree}' holds more than {options.max_files} files (max_files)")
        if path.is_symlink():
            skipped.append(SkippedFile(source=str(relative), reason="a symbolic link, not a photo"))
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(SkippedFile(source=str(relative), reason=f"not a photo (file type '{path.suffix or 'none'}')"))
        else:
            candidates.append(relative)
    return candidates, skipped


def accept_images(
    tree: Path,
    files: list[PurePosixPath],
    dst: Path,
    move: bool,
    options: IngestOptions,
    skipped: list[SkippedFile],
    progress: Progress,
) -> list[ImageInfo]:
    """Check each candidate photo and place the good ones in `dst` under unique names."""
    images: list[ImageInfo] = []
    taken: set[str] = set()
    total = 0
    for index, relative in enumerate(files):
        progress.raise_if_cancelled()
        path = tree / relative
        total += path.stat().st_size
        if total > options.max_total_bytes:
            raise InputError(f"the photos pass the limit of {options.max_total_bytes} bytes (max_total_bytes)")
        name = unique_name(relative, taken)
        try:
            info = read_image(path, name, str(relative), options.max_image_pixels)
        except BadImage as error:
            skipped.append(SkippedFile(source=str(relative), reason=str(error)))
            continue
        taken.add(name.lower())
        (shutil.move if move else shutil.copyfile)(path, dst / name)
        images.append(info)
        progress.update((index + 1) / len(files), f"checked {index + 1}/{len(files)} photos")
    return images


def unique_name(relative: PurePosixPath, taken: set[str]) -> str:
    """`folder/sub/IMG 1.JPG` -> `folder__sub__IMG_1.jpg`, made unique (case-insensitively)."""
    stem = "__".join(clean(part) for part in relative.with_suffix("").parts)
    suffix = relative.suffix.lower()
    name, number = f"{stem}{suffix}", 2
    while name.lower() in taken:
        name, number = f"{stem}_{number}{suffix}", number + 1
    return name


def clean(part: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in part) or "_"


def not_enough_images(source: str, images: list[ImageInfo], skipped: list[SkippedFile], options: IngestOptions) -> str:
    """One line: how many usable photos were found, and why the others were not used."""
    reasons = "; ".join(f"{item.source}: {item.reason}" for item in skipped[:5])
    more = f" (and {len(skipped) - 5} more)" if len(skipped) > 5 else ""
    why = f"; skipped {len(skipped)} file(s): {reasons}{more}" if skipped else ""
    return (
        f"'{source}': found {len(images)} usable photo(s), at least {options.min_images} are needed"
        f" (JPEG, PNG or TIFF){why}"
    )
