"""Ingest from folders and ZIPs: what is kept, what is skipped, what is refused."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spaceport import ingest
from spaceport.errors import InputError
from spaceport.ingest import IngestOptions
from spaceport.progress import Progress


def run(source, tmp_path: Path, **limits) -> ingest.IngestReport:
    return ingest.run(source, tmp_path / "out", IngestOptions(**limits), Progress())


def zip_folder(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return archive


def test_folder_keeps_duplicate_names_apart_and_reads_exif(photo_folder, tmp_path):
    report = run(photo_folder, tmp_path)
    names = sorted(image.name for image in report.images)
    assert names == ["IMG_2.jpg", "a__IMG_1.jpg", "b__IMG_1.jpg", "deep__er__IMG_3.jpeg"]
    first = report.images[0]
    assert (first.make, first.model, first.width, first.height) == ("DJI", "FC300S", 64, 48)
    assert first.focal_length_mm == pytest.approx(3.61, abs=0.01)
    assert first.focal_length_35mm == 20
    assert first.latitude == pytest.approx(46.8426, abs=1e-6)
    assert first.longitude == pytest.approx(-91.9939, abs=1e-6)
    assert first.altitude == pytest.approx(200.0, abs=0.01)
    for name in names:
        assert (tmp_path / "out" / name).is_file()
    assert ingest.load_report(tmp_path / "out").images == report.images


def test_zip_with_hidden_files_macos_forks_and_other_files(photo_folder, tmp_path, make_photo):
    make_photo(photo_folder / "__MACOSX" / "a" / "._IMG_1.JPG")
    make_photo(photo_folder / ".hidden.jpg")
    (photo_folder / "notes.txt").write_text("flight log")
    archive = zip_folder(photo_folder, tmp_path / "photos.zip")
    with pytest.warns(UserWarning, match="notes.txt"):
        report = run(archive, tmp_path)
    assert len(report.images) == 4
    assert [item.source for item in report.skipped] == ["notes.txt"]
    assert not (tmp_path / "out" / ".staging").exists()


def test_png_and_tiff_are_accepted(tmp_path, make_photo):
    folder = tmp_path / "mixed"
    make_photo(folder / "one.jpg")
    rgb = np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(folder / "two.png")
    Image.fromarray(rgb).save(folder / "three.TIF")
    report = run(folder, tmp_path)
    assert sorted(image.name for image in report.images) == ["one.jpg", "three.tif", "two.png"]
    assert report.images[1].latitude is None


def test_truncated_photo_is_skipped_with_a_warning(photo_folder, tmp_path):
    good = (photo_folder / "IMG_2.jpg").read_bytes()
    (photo_folder / "broken.jpg").write_bytes(good[: len(good) // 2])
    with pytest.warns(UserWarning, match=r"broken\.jpg: damaged or truncated"):
        report = run(photo_folder, tmp_path)
    assert len(report.images) == 4
    assert report.skipped[0].source == "broken.jpg"


def test_too_few_photos_says_how_many_and_why(tmp_path, make_photo):
    folder = tmp_path / "few"
    make_photo(folder / "one.jpg")
    (folder / "two.jpg").write_bytes(b"not a jpeg at all")
    (folder / "readme.md").write_text("hi")
    with pytest.raises(InputError) as error:
        run(folder, tmp_path)
    message = str(error.value)
    assert "found 1 usable photo(s), at least 3 are needed" in message
    assert "two.jpg: not a readable image" in message
    assert "readme.md: not a photo" in message


def test_only_non_images_is_refused(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("a.txt", "b.pdf", "c.mov"):
        (folder / name).write_bytes(b"x" * 100)
    with pytest.raises(InputError, match="found 0 usable photo"):
        run(folder, tmp_path)


def write_zip(path: Path, entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ("../evil.jpg", "zip-slip"),
        ("photos/../../evil.jpg", "zip-slip"),
        ("/etc/evil.jpg", "absolute path"),
        ("C:/evil.jpg", "absolute path"),
    ],
)
def test_zip_slip_and_absolute_paths_are_refused(tmp_path, make_photo, entry, rule):
    photo = make_photo(tmp_path / "p.jpg").read_bytes()
    archive = write_zip(tmp_path / "bad.zip", {"ok1.jpg": photo, "ok2.jpg": photo, entry: photo})
    with pytest.raises(InputError, match=rule) as error:
        run(archive, tmp_path)
    assert entry in str(error.value)
    assert not (tmp_path / "evil.jpg").exists()
    assert not list((tmp_path / "out").glob("*.jpg"))


def test_symlink_entry_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("photo.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(InputError, match="'photo.jpg' is a symbolic link"):
        run(archive, tmp_path)


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    archive = write_zip(tmp_path / "bomb.zip", {"zeros.jpg": bytes(64 << 20)}, zipfile.ZIP_DEFLATED)
    assert archive.stat().st_size < 1 << 20
    with pytest.raises(InputError, match=r"'zeros.jpg' expands \d+x .*max_compression_ratio.*zip bomb"):
        run(archive, tmp_path)
    assert not (tmp_path / "out" / ".staging").exists()


def test_archive_limits_on_count_and_size(tmp_path, make_photo):
    photo = make_photo(tmp_path / "p.jpg").read_bytes()
    archive = write_zip(tmp_path / "many.zip", {f"{i}.jpg": photo for i in range(6)})
    with pytest.raises(InputError, match=r"6 entries, more than the limit of 5 \(max_files\)"):
        run(archive, tmp_path, max_files=5)
    with pytest.raises(InputError, match=r"limit of 1000 bytes \(max_total_bytes\)"):
        run(archive, tmp_path, max_total_bytes=1000)


def test_lying_header_sizes_are_caught_while_unpacking(tmp_path, make_photo):
    photo = make_photo(tmp_path / "p.jpg").read_bytes()
    archive = write_zip(tmp_path / "liar.zip", {f"{i}.jpg": photo for i in range(3)})
    data = bytearray(archive.read_bytes())
    # shrink the declared uncompressed size in the central directory of every entry
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) >= 0:
        data[offset + 24 : offset + 28] = (10).to_bytes(4, "little")
        offset += 4
    archive.write_bytes(bytes(data))
    with pytest.raises(InputError):
        run(archive, tmp_path, max_total_bytes=len(photo) + 100)


def test_empty_archive_and_non_zip_file(tmp_path):
    empty = write_zip(tmp_path / "empty.zip", {})
    with pytest.raises(InputError, match="the archive is empty"):
        run(empty, tmp_path)
    other = tmp_path / "photos.rar"
    other.write_bytes(b"Rar!\x1a\x07\x00 not supported")
    with pytest.raises(InputError, match="not a ZIP archive"):
        run(other, tmp_path)
    with pytest.raises(InputError, match="neither a folder, a file nor a URL"):
        run(tmp_path / "missing", tmp_path)


def test_decompression_bomb_image_is_skipped(tmp_path, make_photo):
    folder = tmp_path / "big"
    for index in range(3):
        make_photo(folder / f"{index}.jpg", seed=index)
    Image.new("L", (3000, 3000)).save(folder / "huge.png")
    with pytest.warns(UserWarning, match="huge.png: 3000x3000 pixels is over the limit"):
        report = run(folder, tmp_path, max_image_pixels=5_000_000)
    assert len(report.images) == 3
