"""Fetching photos from URLs: `https://` (and `http://`) files and `s3://` objects or prefixes.

HTTP downloads refuse hosts that resolve to loopback, private, link-local, reserved or
cloud-metadata addresses (server-side request forgery) unless the operator allows them,
and connect to the address that was checked, so a second DNS answer cannot slip past.
Redirects are followed by hand, each hop checked again. Sizes and timeouts are bounded.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

from spaceport.errors import InputError
from spaceport.ingest.options import IngestOptions
from spaceport.progress import Progress

CHUNK_BYTES = 1 << 20
MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
METADATA_HOSTS = {"metadata.google.internal", "metadata"}


def is_url(source: str) -> bool:
    return source.split("://", 1)[0].lower() in {"http", "https", "s3"} and "://" in source


def download(url: str, target_dir: Path, options: IngestOptions, progress: Progress) -> Path:
    """Download `url` into `target_dir`; returns the file (HTTP) or folder (s3 prefix)."""
    if url.lower().startswith("s3://"):
        return download_s3(url, target_dir, options, progress)
    return download_http(url, target_dir, options, progress)


def check_address(host: str, address: str, options: IngestOptions) -> None:
    """Refuse an address that is not public, unless the operator allows private URLs."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if options.allow_private_urls:
        return
    if not ip.is_global or ip.is_multicast:
        raise InputError(
            f"URL host '{host}' resolves to {ip}, a loopback, private, link-local or reserved "
            f"address; refusing it (the operator can allow this with allow_private_urls)"
        )


def resolve(host: str, port: int, options: IngestOptions) -> str:
    """The first address of `host`, after checking every address it resolves to."""
    if host.lower() in METADATA_HOSTS and not options.allow_private_urls:
        raise InputError(f"URL host '{host}' is a cloud metadata service; refusing it")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise InputError(f"URL host '{host}' cannot be resolved ({error.strerror})") from None
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        check_address(host, address, options)
    return addresses[0]


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a pre-checked IP address, with certificate and SNI for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to a pre-checked IP address."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def connect(url: str, options: IngestOptions, timeout_s: float) -> tuple[http.client.HTTPConnection, str]:
    """An unopened connection to the checked address of `url`'s host, and the path (with query) to ask for.

    Raises InputError for a URL that is not http(s) or whose host is not allowed.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InputError(f"URL '{url}' is not an http(s):// or s3:// address")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(parts.hostname, port, options)
    kind = PinnedHTTPSConnection if parts.scheme == "https" else PinnedHTTPConnection
    return kind(parts.hostname, address, port, timeout_s), (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def open_url(url: str, options: IngestOptions) -> tuple[http.client.HTTPResponse, str]:
    """GET `url` following redirects, each hop checked; returns the response and final URL."""
    for _ in range(MAX_REDIRECTS + 1):
        connection, path = connect(url, options, options.download_timeout_s)
        try:
            connection.request("GET", path, headers={"User-Agent": "spaceport"})
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            raise InputError(f"URL '{url}': download failed ({error})") from None
        if response.status in REDIRECTS and response.getheader("Location"):
            url = urljoin(url, response.getheader("Location"))
            connection.close()
            continue
        if response.status != 200:
            raise InputError(f"URL '{url}': the server answered HTTP {response.status} {response.reason}")
        return response, url
    raise InputError(f"URL '{url}': more than {MAX_REDIRECTS} redirects")


def download_http(url: str, target_dir: Path, options: IngestOptions, progress: Progress) -> Path:
    """Stream an HTTP(S) download to a file in `target_dir`, within size and time limits."""
    response, final_url = open_url(url, options)
    declared = int(response.getheader("Content-Length") or 0)
    if declared > options.max_total_bytes:
        raise InputError(
            f"URL '{url}' is {declared} bytes, more than the limit of {options.max_total_bytes} bytes (max_total_bytes)"
        )
    name = PurePosixPath(urlsplit(final_url).path).name or "download"
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / safe_file_name(name)
    received = 0
    try:
        with open(path, "wb") as sink:
            while chunk := response.read(CHUNK_BYTES):
                progress.raise_if_cancelled()
                received += len(chunk)
                if received > options.max_total_bytes:
                    raise InputError(
                        f"URL '{url}' sent more than the limit of {options.max_total_bytes} bytes (max_total_bytes)"
                    )
                sink.write(chunk)
                progress.update(received / declared if declared else 0.0, f"downloaded {received / 1e6:.1f} MB")
    except (OSError, http.client.HTTPException) as error:
        raise InputError(f"URL '{url}': download broke off after {received} bytes ({error})") from None
    finally:
        response.close()
    if declared and received < declared:
        raise InputError(f"URL '{url}': download broke off after {received} of {declared} bytes")
    return path


def safe_file_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).lstrip(".")
    return cleaned or "download"


def s3_client():
    """A boto3 S3 client: the usual AWS credentials if any, else anonymous (public buckets)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    session = boto3.session.Session()
    if session.get_credentials() is None:
        return session.client("s3", config=Config(signature_version=UNSIGNED))
    return session.client("s3")


def download_s3(url: str, target_dir: Path, options: IngestOptions, progress: Progress) -> Path:
    """Download one object (`s3://bucket/photos.zip`) or every object under a prefix."""
    from botocore.exceptions import BotoCoreError, ClientError

    parts = urlsplit(url)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if not bucket:
        raise InputError(f"URL '{url}' names no bucket; use s3://BUCKET/KEY or s3://BUCKET/PREFIX/")
    client = s3_client()
    try:
        objects = list_objects(client, bucket, key, url, options)
        target_dir.mkdir(parents=True, exist_ok=True)
        if len(objects) == 1 and objects[0][0] == key:
            path = target_dir / safe_file_name(PurePosixPath(key).name)
            client.download_file(bucket, key, str(path))
            progress.update(1.0, f"downloaded {key}")
            return path
        folder = target_dir / "s3"
        for index, (object_key, _) in enumerate(objects):
            progress.raise_if_cancelled()
            relative = PurePosixPath(object_key[len(key):].lstrip("/"))
            if ".." in relative.parts:
                raise InputError(f"URL '{url}': object '{object_key}' has '..' in its key; refusing it")
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, object_key, str(path))
            progress.update((index + 1) / len(objects), f"downloaded {index + 1}/{len(objects)} objects")
        return folder
    except (BotoCoreError, ClientError) as error:
        raise InputError(f"URL '{url}': S3 download failed ({error})") from None


def list_objects(client, bucket: str, key: str, url: str, options: IngestOptions) -> list[tuple[str, int]]:
    """(key, size) of the object `key`, or of all objects under the prefix `key`, within limits."""
    found: list[tuple[str, int]] = []
    total = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        for item in page.get("Contents", []):
            if item["Key"].endswith("/"):
                continue
            found.append((item["Key"], item["Size"]))
            total += item["Size"]
            if len(found) > options.max_files:
                raise InputError(f"URL '{url}' holds more than {options.max_files} objects (max_files)")
            if total > options.max_total_bytes:
                raise InputError(
                    f"URL '{url}' holds more than {options.max_total_bytes} bytes (max_total_bytes)"
                )
    exact = [item for item in found if item[0] == key]
    if exact:
        return exact
    if not found:
        raise InputError(f"URL '{url}': no objects found under that key")
    return found
