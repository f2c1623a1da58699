"""Options and report of the ingest stage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

GIB = 1024**3


class IngestOptions(BaseModel):
    """Limits applied to whatever the user hands in (archive, folder or URL)."""

    model_config = ConfigDict(extra="forbid")

    max_total_bytes: int = Field(
        20 * GIB, gt=0, description="Largest total size of the photos (unpacked or downloaded), bytes."
    )
    max_files: int = Field(10_000, gt=0, description="Most entries an archive or folder may hold.")
    max_compression_ratio: float = Field(
        50.0, gt=1, description="Largest uncompressed/compressed size ratio of an archive entry (zip bombs)."
    )
    max_image_pixels: int = Field(
        250_000_000, gt=0, description="Largest image, in pixels (decompression bombs)."
    )
    download_timeout_s: float = Field(
        60.0, gt=0, description="Seconds a download may wait for the server before giving up."
    )
    allow_private_urls: bool = Field(
        False,
        description="Allow URLs on loopback, private, link-local and cloud metadata addresses.",
    )
    min_images: int = Field(3, ge=1, description="Fewest usable photos to go on with.")


class ImageInfo(BaseModel):
    """One accepted photo and what its EXIF says."""

    name: str = Field(description="File name in the images folder (normalized).")
    source: str = Field(description="Path inside the archive, folder or URL it came from.")
    width: int
    height: int
    make: str | None = None
    model: str | None = None
    focal_length_mm: float | None = None
    focal_length_35mm: float | None = None
    latitude: float | None = Field(None, description="WGS84 degrees, north positive.")
    longitude: float | None = Field(None, description="WGS84 degrees, east positive.")
    altitude: float | None = Field(None, description="Metres above sea level.")

    @property
    def has_gps(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def camera_key(self) -> tuple:
        """Photos with the same key come from one physical camera (one COLMAP camera)."""
        return (self.make, self.model, self.width, self.height, self.focal_length_mm)


class SkippedFile(BaseModel):
    source: str
    reason: str


class IngestReport(BaseModel):
    source: str
    images: list[ImageInfo]
    skipped: list[SkippedFile] = []
    total_bytes: int = 0
    seconds: float = 0.0

    @property
    def gps_images(self) -> list[ImageInfo]:
        return [image for image in self.images if image.has_gps]
