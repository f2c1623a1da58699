"""SOG files on disk: lossless WebP images and the bundled (ZIP) or folder forms.

A bundled scene is a ZIP whose entries are all STORED (WebP is already compressed) with
no archive comment, holding `meta.json` and the images at its root. The folder form is
the same files side by side. Readers find the images through the names in `meta.json`.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from spaceport.errors import InputError

META = "meta.json"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same scene gives the same bytes


def encode_webp(rgba: np.ndarray, method: int) -> bytes:
    """Lossless WebP bytes of an (H, W, 4) uint8 image.

    `exact=True` keeps the RGB of fully transparent pixels (libwebp drops them otherwise),
    which SOG needs since alpha is data, not transparency. Quality 75 (libwebp's default
    effort): in our measurements 100 was 5-10x slower for files 0.1% smaller.
    """
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(
        buffer, "WEBP", lossless=True, exact=True, quality=75, method=method
    )
    return buffer.getvalue()


def decode_webp(data: bytes, name: str) -> np.ndarray:
    """(H, W, 4) uint8 RGBA pixels of a WebP (or PNG) image; InputError naming `name` if unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGBA"))
    except (OSError, ValueError) as error:
        raise InputError(f"SOG image {name} cannot be decoded ({error})") from None


def write_bundle(path: Path, files: dict[str, bytes]) -> None:
    """Write `files` (name -> bytes) as a STORE-only ZIP with no comment at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Write `files` (name -> bytes) side by side in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def read_files(path: Path) -> tuple[dict, dict[str, bytes]]:
    """(meta, name -> bytes of every file meta.json names) of a .sog bundle, a folder, or a meta.json."""
    path = Path(path)
    if path.is_dir():
        path = path / META
    if not path.is_file():
        raise InputError(f"{path}: no such SOG file (give a .sog bundle, a folder with meta.json, or the meta.json)")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            contents = {name: archive.read(name) for name in archive.namelist()}
        if META not in contents:
            raise InputError(f"{path}: the ZIP has no {META} at its root, so it is not a SOG bundle")
        meta_bytes = contents[META]
        lookup = lambda name: contents.get(name)  # noqa: E731
    else:
        meta_bytes = path.read_bytes()
        folder = path.parent
        lookup = lambda name: (folder / name).read_bytes() if (folder / name).is_file() else None  # noqa: E731
    try:
        meta = json.loads(meta_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: {META} is not valid JSON ({error})") from None
    files = {}
    for name in referenced_files(meta, path):
        data = lookup(name)
        if data is None:
            raise InputError(f"{path}: {META} names {name}, which is missing")
        files[name] = data
    return meta, files


def referenced_files(meta: dict, path: Path) -> list[str]:
    """Image names a version-2 meta.json refers to."""
    if not isinstance(meta, dict) or meta.get("version") != 2:
        raise InputError(f"{path}: only SOG version 2 is supported (meta.json has version {meta.get('version') if isinstance(meta, dict) else '?'})")
    names = []
    for key in ("means", "scales", "quats", "sh0", "shN"):
        if key in meta:
            names += list(meta[key].get("files", []))
        elif key != "shN":
            raise InputError(f"{path}: meta.json has no '{key}' entry")
    return names
