"""What grid and orbit missions share: altitude and speed choice, waypoints, and the summary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spaceport.errors import InputError
from spaceport.flightplan import estimates
from spaceport.flightplan.cameras import Camera
from spaceport.flightplan.geodesy import LocalFrame
from spaceport.flightplan.models import LEGAL_ALTITUDE_M, FlightPlan, GridOptions, MissionOptions, OrbitOptions, Summary, Waypoint

DEFAULT_MAX_SPEED_M_S = 10.0


@dataclass(frozen=True)
class Shot:
    """A waypoint in the local frame: metres east, north, up (above take-off); compass heading and pitch, degrees."""

    east: float
    north: float
    up: float
    heading_deg: float
    pitch_deg: float
    photo: bool = True


def check_altitude(altitude_m: float, options: MissionOptions, what: str = "altitude_m") -> float:
    """`altitude_m` when it is within the legal limit (or the limit is waived); InputError otherwise."""
    if altitude_m > LEGAL_ALTITUDE_M and not options.allow_high_altitude:
        raise InputError(
            f"{what} = {altitude_m:.1f} m: above the legal limit of {LEGAL_ALTITUDE_M:.0f} m above ground "
            "(EU 120 m, US 400 ft); fly lower, or set allow_high_altitude (--allow-high-altitude) if you hold an authorization"
        )
    return altitude_m


def one_of_altitude_or_gsd(options: MissionOptions) -> None:
    """InputError unless exactly one of altitude_m and gsd_cm is given."""
    if (options.altitude_m is None) == (options.gsd_cm is None):
        raise InputError("give either altitude_m (--altitude) or gsd_cm (--gsd), not both and not neither")


def flight_speed(options: MissionOptions, max_speed_m_s: float, camera: Camera) -> float:
    """The requested speed, or the fastest the camera allows (at most 10 m/s); too fast raises InputError."""
    if options.speed_m_s is None:
        return min(max_speed_m_s, DEFAULT_MAX_SPEED_M_S)
    if options.speed_m_s > max_speed_m_s * (1 + 1e-9) and options.photo_overhead_s == 0:
        raise InputError(
            f"speed_m_s = {options.speed_m_s}: above {max_speed_m_s:.1f} m/s, the fastest at which the {camera.name} "
            f"(one photo every {camera.min_photo_interval_s} s) keeps up; fly slower or with more spacing"
        )
    return options.speed_m_s


def waypoints(shots: list[Shot], frame: LocalFrame) -> list[Waypoint]:
    """Shots in the local frame -> WGS84 waypoints."""
    lat, lon = frame.to_wgs84(np.array([[shot.east, shot.north] for shot in shots]))
    return [
        Waypoint(latitude=float(la), longitude=float(lo), altitude_m=round(shot.up, 3),
                 heading_deg=round(shot.heading_deg % 360.0, 6), gimbal_pitch_deg=round(shot.pitch_deg, 6), photo=shot.photo)
        for shot, la, lo in zip(shots, lat, lon)
    ]


def finish(
    request: GridOptions | OrbitOptions, shots: list[Shot], frame: LocalFrame, camera: Camera, speed_m_s: float, **facts
) -> FlightPlan:
    """The plan with its estimates; `facts` are the mission-specific Summary fields (gsd_cm, spacing, ...)."""
    if not shots:
        raise InputError("the mission has no photos; check the polygon and the altitude")
    distance = estimates.route_length_m(np.array([[s.east, s.north, s.up] for s in shots]))
    photos = sum(shot.photo for shot in shots)
    time_s = estimates.flight_time_s(distance, speed_m_s, photos, request.photo_overhead_s)
    splits = estimates.split_points(len(shots), request.max_waypoints)
    summary = Summary(
        kind=request.kind, camera=camera.name, photos=photos, waypoints=len(shots), distance_m=round(distance, 2),
        speed_m_s=round(speed_m_s, 3), flight_time_s=round(time_s, 1),
        batteries=estimates.batteries(time_s, request.battery_minutes), missions=len(splits), **facts,
    )
    return FlightPlan(request=request, waypoints=waypoints(shots, frame), splits=splits, summary=summary)
