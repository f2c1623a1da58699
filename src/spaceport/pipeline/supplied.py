"""Stage outputs supplied by the user instead of computed: a COLMAP dataset to start a job
at training, a 3DGS PLY to start it at compression.

`import_colmap(source, sfm_dir, options, progress)` fills a job's `sfm/` from a standard
COLMAP dataset (a ZIP, a folder or a URL): `sparse/0/{cameras,images,points3D}.bin` or
`.txt` (or the same directly in `sparse/`) and the photos in `images/`, at the top or one
folder down. The model is written to `sfm/sparse/0/*.bin`, the photos to `sfm/images/`.

`import_ply(source, train_dir, options, progress)` fills `train/scene.ply` from a 3DGS PLY,
or from a ZIP or folder holding exactly one.

Archives go through the ingest stage's checked unpacker (zip-slip, links, encryption,
file count, sizes, zip bombs) and URLs through its checked downloader, within the
`IngestOptions` limits. `find_colmap_dataset` and `find_ply` look at a list of paths, so
the API applies the same rules to an upload's listing before it queues a job.
"""

from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Iterator, Literal

import pycolmap
from pydantic import BaseModel, Field

from spaceport.errors import InputError
from spaceport.ingest import is_ignored
from spaceport.ingest.archive import extract_zip, list_zip
from spaceport.ingest.download import download, is_url
from spaceport.ingest.options import IngestOptions
from spaceport.progress import Progress
from spaceport.splat.ply import check_ply

MODEL_FILES = ("cameras", "images", "points3D")
STAGING = ".staging"
SCENE_PLY = "scene.ply"


class SuppliedReport(BaseModel):
    """A stage output taken from the user: where from, and what it holds."""

    source: str = Field(description="The file, folder or URL it came from.")
    kind: Literal["colmap", "ply"]
    images: int = Field(0, description="Registered images of the COLMAP model (0 for a PLY).")
    points: int = Field(description="3D points of the COLMAP model, or splats in the PLY.")
    seconds: float = 0.0


def source_name(source: str | Path) -> str:
    """How errors name the source: a URL in full, a file or folder by its name."""
    return str(source) if is_url(str(source)) else Path(source).name


def is_zip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"PK"


def fetch(source: str | Path, staging: Path, options: IngestOptions, progress: Progress) -> Path:
    """The local file or folder at `source`; a URL is downloaded into `staging` first."""
    if is_url(str(source)):
        return download(str(source), staging / "download", options, progress)
    path = Path(source)
    if not path.exists():
        raise InputError(f"'{source}' is neither a file, a folder nor a URL (http://, https://, s3://)")
    return path


def listing(path: Path, options: IngestOptions) -> list[PurePosixPath]:
    """Relative paths of the files in the folder or ZIP `path` (a ZIP's entries checked first)."""
    if path.is_dir():
        return sorted(PurePosixPath(item.relative_to(path).as_posix()) for item in path.rglob("*") if item.is_file())
    return list_zip(path, options)


def unpacked(path: Path, staging: Path, options: IngestOptions, progress: Progress) -> Path:
    """The folder holding the files of `path`: itself, or the ZIP unpacked into `staging`."""
    if path.is_dir():
        return path
    extract_zip(path, staging / "unpacked", options, progress)
    return staging / "unpacked"


def find_colmap_dataset(files: list[PurePosixPath], name: str) -> tuple[PurePosixPath, PurePosixPath]:
    """(dataset root, model folder) among `files`, the relative paths in a ZIP or folder called `name`.

    The root is the top or one folder down, the first that has `sparse/`; the model folder
    is `root/sparse/0` or `root/sparse`, holding cameras, images and points3D all as .bin
    or all as .txt; `root/images/` must hold files. Raises InputError naming what is missing.
    """
    visible = [path for path in files if not is_ignored(path)]
    names = {path.as_posix() for path in visible}

    def holds(folder: PurePosixPath) -> bool:
        return any(path.is_relative_to(folder) for path in visible)

    def has(folder: PurePosixPath, stem: str, kind: str) -> bool:
        return f"{folder / stem}.{kind}" in names

    tops = sorted({PurePosixPath(path.parts[0]) for path in visible if len(path.parts) > 1})
    root = next((top for top in [PurePosixPath()] + tops if holds(top / "sparse")), None)
    if root is None:
        raise InputError(
            f"{name} has no sparse/0/cameras.bin or cameras.txt: a COLMAP dataset holds "
            "sparse/0/{cameras,images,points3D}.bin (or .txt) and images/, at the top or in one folder"
        )
    candidates = (root / "sparse" / "0", root / "sparse")
    model = next((folder for folder in candidates if has(folder, "cameras", "bin") or has(folder, "cameras", "txt")), candidates[0])
    for stem in MODEL_FILES:
        if not (has(model, stem, "bin") or has(model, stem, "txt")):
            raise InputError(f"{name} has no {model / stem}.bin or {stem}.txt")
    if not any(all(has(model, stem, kind) for stem in MODEL_FILES) for kind in ("bin", "txt")):
        raise InputError(f"{name}: {model} mixes .bin and .txt files; give cameras, images and points3D all as .bin or all as .txt")
    if not holds(root / "images"):
        raise InputError(f"{name} has no {root / 'images'}/ folder with the photos of the COLMAP model")
    return root, model


def find_ply(files: list[PurePosixPath], name: str) -> PurePosixPath:
    """The one `.ply` among `files`, the relative paths in a ZIP or folder called `name`."""
    plys = [path for path in files if not is_ignored(path) and path.suffix.lower() == ".ply"]
    if len(plys) != 1:
        found = f": {', '.join(map(str, plys[:5]))}" if plys else ""
        raise InputError(f"{name} holds {len(plys)} .ply files{found}; it must hold exactly one 3DGS PLY")
    return plys[0]


def read_model(folder: Path, name: str, shown: PurePosixPath) -> pycolmap.Reconstruction:
    """The COLMAP model in `folder` (`shown` as the path inside `name` in errors)."""
    try:
        return pycolmap.Reconstruction(str(folder))
    except (ValueError, RuntimeError) as error:
        raise InputError(f"{name}: {shown} is not a readable COLMAP model ({error})") from None


def check_photos(model: pycolmap.Reconstruction, folder: Path, name: str, shown: PurePosixPath) -> int:
    """The number of registered images; raises InputError naming those missing from `folder`."""
    registered = [image.name for image in model.images.values() if image.has_pose]
    missing = [photo for photo in registered if not (folder / photo).is_file()]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InputError(
            f"{name}: {shown}/ lacks {len(missing)} of the model's {len(registered)} photos: {', '.join(missing[:5])}{more}"
        )
    return len(registered)


@contextmanager
def staging_in(stage_dir: Path) -> Iterator[Path]:
    """A fresh scratch folder inside `stage_dir` (created), removed afterwards whatever happens."""
    staging = stage_dir / STAGING
    stage_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def import_colmap(source: str | Path, sfm_dir: Path, options: IngestOptions, progress: Progress) -> SuppliedReport:
    """Fill `sfm_dir` (`sparse/0/*.bin`, `images/`) from the COLMAP dataset at `source`."""
    started, name = time.perf_counter(), source_name(source)
    with staging_in(sfm_dir) as staging:
        path = fetch(source, staging, options, progress.span(0.0, 0.4))
        if path.is_file() and not is_zip(path):
            raise InputError(f"{name} is not a ZIP archive; give a ZIP or folder of a COLMAP dataset (sparse/0/ and images/)")
        root, model_dir = find_colmap_dataset(listing(path, options), name)
        tree = unpacked(path, staging, options, progress.span(0.4, 0.9))
        progress.update(0.9, "checking the COLMAP model")
        model = read_model(tree / model_dir, name, model_dir)
        images = check_photos(model, tree / root / "images", name, root / "images")
        (sfm_dir / "sparse" / "0").mkdir(parents=True)
        model.write(str(sfm_dir / "sparse" / "0"))
        transfer = shutil.move if tree.is_relative_to(staging) else shutil.copytree
        transfer(tree / root / "images", sfm_dir / "images")
    progress.update(1.0, f"COLMAP dataset with {images} images and {model.num_points3D()} points")
    return SuppliedReport(source=str(source), kind="colmap", images=images, points=model.num_points3D(),
                          seconds=round(time.perf_counter() - started, 3))


def import_ply(source: str | Path, train_dir: Path, options: IngestOptions, progress: Progress) -> SuppliedReport:
    """Fill `train_dir/scene.ply` from the 3DGS PLY at `source` (or the one in a ZIP or folder)."""
    started, name = time.perf_counter(), source_name(source)
    with staging_in(train_dir) as staging:
        path = fetch(source, staging, options, progress.span(0.0, 0.5))
        if path.is_file() and not is_zip(path):
            ply, shown = path, name
        else:
            inner = find_ply(listing(path, options), name)
            ply, shown = unpacked(path, staging, options, progress.span(0.5, 0.9)) / inner, f"{name}: {inner}"
        splats = check_ply(ply, shown)
        transfer = shutil.move if ply.is_relative_to(staging) else shutil.copyfile
        transfer(ply, train_dir / SCENE_PLY)
    progress.update(1.0, f"3DGS PLY with {splats} splats")
    return SuppliedReport(source=str(source), kind="ply", points=splats, seconds=round(time.perf_counter() - started, 3))
