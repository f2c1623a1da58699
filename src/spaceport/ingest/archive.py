"""Unpacking ZIP archives without trusting them.

Every entry is checked before anything is written: relative path inside the target
(no absolute paths, no `..`: zip-slip), no symbolic links, no encryption, and the archive
as a whole within the file-count and size limits; while writing, the real number of bytes
is counted (headers can lie) and each entry's compression ratio is bounded (zip bombs).
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from spaceport.errors import InputError
from spaceport.ingest.options import IngestOptions
from spaceport.progress import Progress

CHUNK_BYTES = 1 << 20


def safe_relative_path(entry_name: str, archive: Path) -> PurePosixPath:
    """The entry's path if it stays inside the target folder; otherwise an InputError."""
    name = entry_name.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InputError(f"{archive.name}: entry '{entry_name}' has an absolute path; archives may hold only relative paths")
    if ".." in path.parts:
        raise InputError(f"{archive.name}: entry '{entry_name}' points outside the archive with '..' (zip-slip); refusing the archive")
    return path


def check_entries(archive: Path, entries: list[zipfile.ZipInfo], options: IngestOptions) -> None:
    """Reject the archive if any entry or the whole breaks a rule; nothing is written."""
    if not entries:
        raise InputError(f"{archive.name}: the archive is empty; put the photos in it and upload again")
    if len(entries) > options.max_files:
        raise InputError(
            f"{archive.name}: {len(entries)} entries, more than the limit of {options.max_files} (max_files)"
        )
    declared = 0
    for entry in entries:
        safe_relative_path(entry.filename, archive)
        mode = entry.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise InputError(f"{archive.name}: entry '{entry.filename}' is a symbolic link; archives may not hold links")
        if entry.flag_bits & 0x1:
            raise InputError(f"{archive.name}: entry '{entry.filename}' is encrypted; upload an archive without a password")
        check_ratio(archive, entry.filename, entry.file_size, entry.compress_size, options)
        declared += entry.file_size
    if declared > options.max_total_bytes:
        raise InputError(
            f"{archive.name}: unpacks to {declared} bytes, more than the limit of "
            f"{options.max_total_bytes} bytes (max_total_bytes)"
        )


def check_ratio(archive: Path, name: str, size: int, compressed: int, options: IngestOptions) -> None:
    """Reject an entry that expands more than `max_compression_ratio` (a zip bomb)."""
    if size > CHUNK_BYTES and size > options.max_compression_ratio * max(compressed, 1):
        raise InputError(
            f"{archive.name}: entry '{name}' expands {size / max(compressed, 1):.0f}x "
            f"({compressed} to {size} bytes), over the limit of {options.max_compression_ratio:g}x "
            f"(max_compression_ratio): refusing a possible zip bomb"
        )


def open_checked(archive: Path, options: IngestOptions) -> zipfile.ZipFile:
    """`archive` opened, after checking every entry (`check_entries`); raises InputError."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"{archive.name}: not a readable ZIP archive ({error})") from None
    try:
        check_entries(archive, zf.infolist(), options)
    except InputError:
        zf.close()
        raise
    return zf


def list_zip(archive: Path, options: IngestOptions) -> list[PurePosixPath]:
    """The relative paths of the files in `archive`, after checking every entry; nothing is written."""
    with open_checked(archive, options) as zf:
        return [safe_relative_path(entry.filename, archive) for entry in zf.infolist() if not entry.is_dir()]


def extract_zip(archive: Path, target: Path, options: IngestOptions, progress: Progress) -> list[PurePosixPath]:
    """Unpack `archive` into `target` after checking it; returns the files' relative paths.

    Raises InputError naming the entry and the rule it broke; on error the partly
    written target is removed.
    """
    with open_checked(archive, options) as zf:
        files = [entry for entry in zf.infolist() if not entry.is_dir()]
        target.mkdir(parents=True, exist_ok=True)
        written = 0
        try:
            for index, entry in enumerate(files):
                progress.raise_if_cancelled()
                relative = safe_relative_path(entry.filename, archive)
                written += copy_entry(zf, entry, target / relative, written, archive, options)
                progress.update((index + 1) / len(files), f"unpacked {index + 1}/{len(files)} files")
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
    return [safe_relative_path(entry.filename, archive) for entry in files]


def copy_entry(
    zf: zipfile.ZipFile, entry: zipfile.ZipInfo, path: Path, written_before: int, archive: Path, options: IngestOptions
) -> int:
    """Stream one entry to `path`, counting real bytes against the limits; returns bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with zf.open(entry) as source, open(path, "wb") as sink:
            while chunk := source.read(CHUNK_BYTES):
                written += len(chunk)
                check_ratio(archive, entry.filename, written, entry.compress_size, options)
                if written_before + written > options.max_total_bytes:
                    raise InputError(
                        f"{archive.name}: unpacking '{entry.filename}' passes the limit of "
                        f"{options.max_total_bytes} bytes (max_total_bytes)"
                    )
                sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise InputError(f"{archive.name}: entry '{entry.filename}' is damaged ({error})") from None
    return written
