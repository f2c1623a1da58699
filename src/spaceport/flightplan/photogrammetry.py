"""Photogrammetry maths: ground sample distance, footprint, photo and line spacing, speed.

Conventions: the camera looks straight down unless a gimbal pitch is given (-90 degrees
is straight down, 0 is the horizon); the image's long side (width) lies across the
flight line, its short side (height) along it. Altitudes are above the ground, metres.

Worked example (Phantom 4 Pro, 13.2 x 8.8 mm sensor, 8.8 mm lens, 5472 x 3648 px, 100 m):
GSD 13.2 * 100 / (8.8 * 5472) = 2.74 cm/px; footprint 150 x 100 m; at 80 % front and
70 % side overlap, a photo every 20 m along lines 45 m apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spaceport.flightplan.cameras import Camera


def gsd_m(camera: Camera, distance_m: float) -> float:
    """Ground sample distance, metres per pixel, at `distance_m` from the camera (nadir: the altitude)."""
    return camera.sensor_width_mm * distance_m / (camera.focal_length_mm * camera.image_width_px)


def distance_for_gsd(camera: Camera, gsd_cm: float) -> float:
    """Distance from the camera, metres, at which one pixel covers `gsd_cm` centimetres."""
    return gsd_cm / 100 * camera.focal_length_mm * camera.image_width_px / camera.sensor_width_mm


def footprint_m(camera: Camera, altitude_m: float) -> tuple[float, float]:
    """Nadir footprint (across track = image width, along track = image height), metres."""
    scale = altitude_m / camera.focal_length_mm
    return camera.sensor_width_mm * scale, camera.sensor_height_mm * scale


def half_fov_deg(camera: Camera) -> tuple[float, float]:
    """Half the field of view across (image width) and along (image height) the track, degrees."""
    return (math.degrees(math.atan(camera.sensor_width_mm / 2 / camera.focal_length_mm)),
            math.degrees(math.atan(camera.sensor_height_mm / 2 / camera.focal_length_mm)))


@dataclass(frozen=True)
class Footprint:
    """Ground covered by one photo, in the frame of the flight line, metres from the aircraft.

    `near_m`..`far_m` is the extent along the direction of flight (nadir: -h/2..h/2);
    `width_m` is the narrowest extent across it (nadir: the footprint width; tilted
    forward: the width of the near edge, a trapezoid's short side).
    """

    near_m: float
    far_m: float
    width_m: float

    @property
    def length_m(self) -> float:
        return self.far_m - self.near_m


def footprint(camera: Camera, altitude_m: float, gimbal_pitch_deg: float = -90.0) -> Footprint:
    """Footprint of a photo taken at `altitude_m` with the camera tilted forward to `gimbal_pitch_deg`.

    Raises ValueError when the top of the image would reach the horizon.
    """
    along = half_fov_deg(camera)[1]
    depression = -gimbal_pitch_deg  # degrees below the horizon of the optical axis
    if depression - along <= 1.0:
        raise ValueError(f"gimbal pitch {gimbal_pitch_deg} deg shows the horizon (half field of view {along:.1f} deg)")
    tilt = math.radians(90.0 - depression)  # from straight down, forward positive
    half = math.radians(along)
    near = altitude_m * math.tan(tilt - half)
    far = altitude_m * math.tan(tilt + half)
    near_depth = altitude_m / math.cos(tilt - half) * math.cos(half)  # along the optical axis
    width = near_depth * camera.sensor_width_mm / camera.focal_length_mm
    return Footprint(near_m=near, far_m=far, width_m=width)


def spacing_m(length_m: float, overlap_percent: float) -> float:
    """Distance between neighbouring photos (or lines), metres, for a footprint `length_m` long."""
    return length_m * (1 - overlap_percent / 100)


def max_speed_m_s(photo_spacing_m: float, camera: Camera) -> float:
    """Fastest ground speed, m/s, at which the camera can keep up with one photo per `photo_spacing_m`."""
    return photo_spacing_m / camera.min_photo_interval_s
