"""Orbit missions: rings around a point of interest, the camera aimed at the point.

Photos are taken every `angle_step_deg` around the point (rounded so that a ring closes
evenly); each photo's heading is the bearing to the point and its gimbal pitch the
angle down to it. Rings go up by `ring_spacing_m`, the next ring starting where the
previous one ended.
"""

from __future__ import annotations

import math

from spaceport.errors import InputError
from spaceport.flightplan import photogrammetry as pg
from spaceport.flightplan.cameras import get_camera
from spaceport.flightplan.geodesy import LocalFrame
from spaceport.flightplan.mission import Shot, check_altitude, finish, flight_speed, one_of_altitude_or_gsd
from spaceport.flightplan.models import FlightPlan, OrbitOptions

MAX_UPWARD_PITCH_DEG = 30.0  # most DJI gimbals tilt up to +30 degrees at most


def aim(east: float, north: float, up: float, target_up: float) -> tuple[float, float]:
    """Compass heading and gimbal pitch (degrees) from (east, north, up) to the point (0, 0, target_up), metres."""
    heading = math.degrees(math.atan2(-east, -north)) % 360.0
    pitch = -math.degrees(math.atan2(up - target_up, math.hypot(east, north)))
    return heading, pitch


def ring(options: OrbitOptions, altitude: float, photos: int, start_deg: float) -> list[Shot]:
    """One ring of `photos` shots at `altitude`, the first at bearing `start_deg` from the point."""
    sense = 1 if options.clockwise else -1
    shots = []
    for k in range(photos):
        bearing = math.radians(start_deg + sense * k * 360.0 / photos)
        east, north = options.radius_m * math.sin(bearing), options.radius_m * math.cos(bearing)
        heading, pitch = aim(east, north, altitude, options.target_altitude_m)
        shots.append(Shot(east, north, altitude, heading, pitch))
    return shots


def orbit_altitude(options: OrbitOptions, camera) -> float:
    """Lowest ring altitude: as given, or where the distance to the point gives the requested GSD."""
    if options.altitude_m is not None:
        return options.altitude_m
    distance = pg.distance_for_gsd(camera, options.gsd_cm)
    if distance <= options.radius_m:
        raise InputError(
            f"gsd_cm = {options.gsd_cm}: needs the camera within {distance:.1f} m of the point, "
            f"less than radius_m = {options.radius_m}; choose a smaller radius or a larger GSD"
        )
    return options.target_altitude_m + math.sqrt(distance**2 - options.radius_m**2)


def plan_orbit(options: OrbitOptions) -> FlightPlan:
    """Plan an orbit (one or more rings) around the point of interest."""
    camera = get_camera(options.camera)
    one_of_altitude_or_gsd(options)
    base = orbit_altitude(options, camera)
    top = base + (options.rings - 1) * options.ring_spacing_m
    check_altitude(top, options, "altitude of the highest ring")
    photos = math.ceil(360.0 / options.angle_step_deg - 1e-9)
    shots: list[Shot] = []
    for k in range(options.rings):
        shots += ring(options, base + k * options.ring_spacing_m, photos, options.start_bearing_deg)
    for shot in shots:
        if shot.pitch_deg > MAX_UPWARD_PITCH_DEG:
            raise InputError(
                f"target_altitude_m = {options.target_altitude_m}: the camera would look up {shot.pitch_deg:.0f} degrees "
                f"from {shot.up:.0f} m, more than the gimbal's {MAX_UPWARD_PITCH_DEG:.0f}; fly higher or farther out"
            )
    chord = 2 * options.radius_m * math.sin(math.pi / photos)
    max_speed = pg.max_speed_m_s(chord, camera)
    slant = math.hypot(options.radius_m, base - options.target_altitude_m)
    width, height = pg.footprint_m(camera, base)
    return finish(
        options, shots, LocalFrame(options.latitude, options.longitude), camera, flight_speed(options, max_speed, camera),
        altitude_m=round(base, 2), gsd_cm=round(pg.gsd_m(camera, slant) * 100, 3), footprint_width_m=round(width, 2),
        footprint_height_m=round(height, 2), photo_spacing_m=round(chord, 2), lines=options.rings,
        max_speed_m_s=round(max_speed, 2),
    )
