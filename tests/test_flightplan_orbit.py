"""Orbits: every photo's heading and gimbal pitch point at the target within 1 degree.

Aim is checked from the exported latitude/longitude with the ellipsoid's own radii of
curvature at the target (metres per degree north and east), independently of the planner's frame.
"""

from __future__ import annotations

import math

import pytest

from spaceport.flightplan import OrbitOptions, plan_orbit
from spaceport.flightplan import photogrammetry as pg
from spaceport.flightplan.cameras import CAMERAS

A, E2 = 6378137.0, 0.00669437999014


def offset_m(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """Metres east, north of (lat, lon) from (lat0, lon0) for nearby points."""
    phi = math.radians((lat + lat0) / 2)
    meridian = A * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5
    normal = A / math.sqrt(1 - E2 * math.sin(phi) ** 2)
    return math.radians((lon - lon0 + 180) % 360 - 180) * normal * math.cos(phi), math.radians(lat - lat0) * meridian


def angle_difference(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


@pytest.mark.parametrize(
    "lat,lon,radius,altitude,target,step,rings",
    [(47.37, 8.54, 40, 30, 0, 10, 1), (-33.86, 151.21, 300, 110, 20, 7.5, 2), (69.65, 18.96, 15, 5, 12, 30, 3),
     (0.0, -179.9995, 120, 60, 0, 12, 1)],
)
def test_every_photo_is_aimed_at_the_target(lat, lon, radius, altitude, target, step, rings):
    options = OrbitOptions(latitude=lat, longitude=lon, radius_m=radius, altitude_m=altitude, target_altitude_m=target,
                           angle_step_deg=step, rings=rings, ring_spacing_m=5)
    plan = plan_orbit(options)
    per_ring = math.ceil(360 / step - 1e-9)
    assert plan.summary.photos == per_ring * rings == len(plan.waypoints)
    for w in plan.waypoints:
        east, north = offset_m(lat, lon, w.latitude, w.longitude)
        assert math.hypot(east, north) == pytest.approx(radius, rel=1e-4)
        bearing_to_target = math.degrees(math.atan2(-east, -north)) % 360
        pitch_to_target = -math.degrees(math.atan2(w.altitude_m - target, math.hypot(east, north)))
        assert angle_difference(w.heading_deg, bearing_to_target) < 1.0
        assert abs(w.gimbal_pitch_deg - pitch_to_target) < 1.0
        assert w.photo
    assert sorted({w.altitude_m for w in plan.waypoints}) == pytest.approx([altitude + 5 * k for k in range(rings)])


def test_orbit_direction_start_and_spacing():
    plan = plan_orbit(OrbitOptions(latitude=47, longitude=8, radius_m=50, altitude_m=40, angle_step_deg=90,
                                   start_bearing_deg=90, clockwise=False))
    bearings = []
    for w in plan.waypoints:
        east, north = offset_m(47, 8, w.latitude, w.longitude)
        bearings.append(round(math.degrees(math.atan2(east, north)) % 360))
    assert bearings == [90, 0, 270, 180]  # counterclockwise from the east
    assert plan.summary.photo_spacing_m == pytest.approx(2 * 50 * math.sin(math.radians(45)), abs=0.01)


def test_orbit_altitude_from_gsd_at_the_target():
    camera = CAMERAS["mavic-3-enterprise"]
    plan = plan_orbit(OrbitOptions(latitude=47, longitude=8, radius_m=30, gsd_cm=1.0, target_altitude_m=10,
                                   camera="mavic-3-enterprise"))
    slant = math.hypot(30, plan.summary.altitude_m - 10)
    assert pg.gsd_m(camera, slant) * 100 == pytest.approx(1.0, abs=1e-3)
    assert plan.summary.gsd_cm == pytest.approx(1.0, abs=1e-3)
