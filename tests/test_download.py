"""Ingest from URLs: private addresses refused, limits kept, http(s) and s3 downloads work."""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from spaceport import ingest
from spaceport.errors import InputError
from spaceport.ingest import IngestOptions
from spaceport.progress import Progress


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/photos.zip",
        "https://localhost/photos.zip",
        "http://10.1.2.3/photos.zip",
        "http://192.168.0.10:8080/photos.zip",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/photos.zip",
        "http://[::ffff:127.0.0.1]/photos.zip",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://0.0.0.0/photos.zip",
    ],
)
def test_private_and_metadata_addresses_are_refused(tmp_path, url):
    with pytest.raises(InputError, match="refusing"):
        ingest.run(url, tmp_path / "out", IngestOptions(), Progress())


@pytest.fixture
def served_zip(tmp_path, photo_folder):
    """An HTTP server on loopback serving photos.zip (4 photos) and a redirect to it."""
    root = tmp_path / "www"
    root.mkdir()
    with zipfile.ZipFile(root / "photos.zip", "w") as zf:
        for path in sorted(photo_folder.rglob("*.*")):
            zf.write(path, path.relative_to(photo_folder).as_posix())

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/photos.zip")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", (root / "photos.zip").stat().st_size
    server.shutdown()


def test_http_download_when_private_urls_are_allowed(tmp_path, served_zip):
    base, _ = served_zip
    options = IngestOptions(allow_private_urls=True)
    report = ingest.run(f"{base}/moved", tmp_path / "out", options, Progress())
    assert len(report.images) == 4
    assert report.images[0].latitude is not None


def test_http_download_limits(tmp_path, served_zip):
    base, size = served_zip
    with pytest.raises(InputError, match=r"more than the limit of \d+ bytes \(max_total_bytes\)"):
        ingest.run(f"{base}/photos.zip", tmp_path / "out", IngestOptions(allow_private_urls=True, max_total_bytes=size - 1), Progress())
    with pytest.raises(InputError, match="HTTP 404"):
        ingest.run(f"{base}/nothing.zip", tmp_path / "out", IngestOptions(allow_private_urls=True), Progress())


@pytest.fixture
def s3_bucket(monkeypatch, photo_folder, tmp_path):
    """A moto (offline AWS) bucket holding photos.zip and the same photos under flight/."""
    moto = pytest.importorskip("moto")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        import boto3

        client = boto3.client("s3")
        client.create_bucket(Bucket="drone")
        archive = tmp_path / "photos.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for path in sorted(photo_folder.rglob("*.*")):
                zf.write(path, path.relative_to(photo_folder).as_posix())
                client.upload_file(str(path), "drone", "flight/" + path.relative_to(photo_folder).as_posix())
        client.upload_file(str(archive), "drone", "uploads/photos.zip")
        yield "drone"


def test_s3_object_and_prefix(tmp_path, s3_bucket):
    from_zip = ingest.run("s3://drone/uploads/photos.zip", tmp_path / "zip", IngestOptions(), Progress())
    from_prefix = ingest.run("s3://drone/flight/", tmp_path / "prefix", IngestOptions(), Progress())
    assert sorted(i.name for i in from_zip.images) == sorted(i.name for i in from_prefix.images)
    assert len(from_prefix.images) == 4
    with pytest.raises(InputError, match="no objects found"):
        ingest.run("s3://drone/nothing/", tmp_path / "none", IngestOptions(), Progress())
    with pytest.raises(InputError, match=r"more than 3 objects \(max_files\)"):
        ingest.run("s3://drone/flight/", tmp_path / "many", IngestOptions(max_files=3), Progress())
