"""Drone cameras: a small built-in table from published specifications, plus your own.

A camera is what the photogrammetry maths needs: sensor size (mm), focal length (mm),
image size (px) and the shortest interval between two photos (s). Sources for every
entry are listed in docs/flightplan.md; values DJI does not publish directly (sensor
millimetres for "1/1.3-inch" sensors, true focal lengths where only the 35 mm equivalent
is given) are marked there as derived.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from spaceport.errors import InputError
from spaceport.flightplan.models import Camera, describe


CAMERAS: dict[str, Camera] = {
    "phantom-4-pro": Camera(
        name="DJI Phantom 4 Pro", sensor_width_mm=13.2, sensor_height_mm=8.8, focal_length_mm=8.8,
        image_width_px=5472, image_height_px=3648, min_photo_interval_s=2.0,
    ),
    "mavic-3-enterprise": Camera(
        name="DJI Mavic 3 Enterprise (wide)", sensor_width_mm=17.3, sensor_height_mm=13.0, focal_length_mm=12.29,
        image_width_px=5280, image_height_px=3956, min_photo_interval_s=0.7,
    ),
    "mini-4-pro": Camera(
        name="DJI Mini 4 Pro (12 MP)", sensor_width_mm=9.6, sensor_height_mm=7.2, focal_length_mm=6.72,
        image_width_px=4032, image_height_px=3024, min_photo_interval_s=2.0,
    ),
    "air-3": Camera(
        name="DJI Air 3 (wide, 12 MP)", sensor_width_mm=9.6, sensor_height_mm=7.2, focal_length_mm=6.72,
        image_width_px=4032, image_height_px=3024, min_photo_interval_s=2.0,
    ),
}


def normalized(name: str) -> str:
    """'DJI Phantom_4 Pro' -> 'phantom-4-pro' (case, spaces, underscores and a 'dji' prefix ignored)."""
    key = "-".join(name.lower().replace("_", " ").replace("-", " ").split())
    return key.removeprefix("dji-")


def get_camera(name_or_path: str | Camera, allow_files: bool = True) -> Camera:
    """A camera as given, a built-in one by name, or (if `allow_files`) one from a JSON file with `Camera`'s fields."""
    if isinstance(name_or_path, Camera):
        return name_or_path
    key = normalized(name_or_path)
    if key in CAMERAS:
        return CAMERAS[key]
    path = Path(name_or_path)
    if allow_files and path.suffix.lower() == ".json" and path.is_file():
        return camera_from_file(path)
    raise InputError(
        f"camera {name_or_path!r} is not known; use one of {', '.join(CAMERAS)} "
        "or a JSON file with sensor_width_mm, sensor_height_mm, focal_length_mm, image_width_px, "
        "image_height_px and min_photo_interval_s"
    )


def camera_from_file(path: Path) -> Camera:
    """A user-defined camera from a JSON file; a bad file names the field, value and rule."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"camera file {path}: cannot read it as JSON ({error})") from None
    if isinstance(data, dict):
        data.setdefault("name", path.stem)
    try:
        return Camera.model_validate(data)
    except ValidationError as error:
        raise InputError(f"camera file {path}: {describe(error)}") from None
