"""Reading and checking one photo: decodes it fully and reads camera and GPS from EXIF."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from PIL import ExifTags, Image, UnidentifiedImageError

from spaceport.ingest.options import ImageInfo

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}
EXIF_IFD = ExifTags.IFD.Exif
GPS_IFD = ExifTags.IFD.GPSInfo
TAG = ExifTags.Base
GPS = ExifTags.GPS


class BadImage(Exception):
    """The file cannot be used as a photo; the message says why."""


def read_image(path: Path, name: str, source: str, max_pixels: int) -> ImageInfo:
    """Decode `path` completely (catches truncation) and read its metadata.

    Raises BadImage for unreadable, truncated or oversized images.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > max_pixels:
                    raise BadImage(
                        f"{image.width}x{image.height} pixels is over the limit of {max_pixels} (max_image_pixels)"
                    )
                image.load()
                exif = image.getexif()
                size = image.size
    except BadImage:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise BadImage(f"not a readable image ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise BadImage(f"damaged or truncated image ({error})") from None
    return ImageInfo(name=name, source=source, width=size[0], height=size[1], **camera_fields(exif), **gps_fields(exif))


def camera_fields(exif: Image.Exif) -> dict:
    """Make, model and focal lengths (mm, and 35 mm equivalent) where EXIF has them."""
    details = exif.get_ifd(EXIF_IFD)
    return {
        "make": text(exif.get(TAG.Make)),
        "model": text(exif.get(TAG.Model)),
        "focal_length_mm": positive(number(details.get(TAG.FocalLength))),
        "focal_length_35mm": positive(number(details.get(TAG.FocalLengthIn35mmFilm))),
    }


def gps_fields(exif: Image.Exif) -> dict:
    """Latitude and longitude (degrees, WGS84) and altitude (m) where EXIF has them."""
    gps = exif.get_ifd(GPS_IFD)
    latitude = degrees(gps.get(GPS.GPSLatitude), gps.get(GPS.GPSLatitudeRef), "S")
    longitude = degrees(gps.get(GPS.GPSLongitude), gps.get(GPS.GPSLongitudeRef), "W")
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return {}
    if latitude == 0 and longitude == 0:
        return {}  # "null island": a receiver without a fix
    altitude = number(gps.get(GPS.GPSAltitude))
    if altitude is not None and gps.get(GPS.GPSAltitudeRef) in (1, b"\x01"):
        altitude = -altitude
    return {"latitude": latitude, "longitude": longitude, "altitude": altitude}


def degrees(dms, ref, negative_ref: str) -> float | None:
    """(degrees, minutes, seconds) rationals and an N/S/E/W reference to signed degrees."""
    try:
        value = float(dms[0]) + float(dms[1]) / 60 + float(dms[2]) / 3600
    except (TypeError, IndexError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(value):
        return None
    return -value if text(ref) == negative_ref else value


def number(value) -> float | None:
    """A finite float from an EXIF number or rational, else None."""
    try:
        result = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return result if math.isfinite(result) else None


def positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None


def text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ").strip()
    return value or None
