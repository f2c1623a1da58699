"""Photogrammetry maths against the worked Phantom 4 Pro example; local frame; estimates; splitting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spaceport.flightplan import photogrammetry as pg
from spaceport.flightplan.cameras import CAMERAS, get_camera
from spaceport.flightplan.estimates import batteries, flight_time_s, route_length_m, split_points
from spaceport.flightplan.geodesy import LocalFrame
from spaceport.flightplan.grid import rows

P4P = CAMERAS["phantom-4-pro"]


def test_phantom_4_pro_worked_example():
    assert (P4P.sensor_width_mm, P4P.focal_length_mm, P4P.image_width_px, P4P.image_height_px) == (13.2, 8.8, 5472, 3648)
    assert pg.gsd_m(P4P, 100) * 100 == pytest.approx(2.74, abs=0.005)
    width, height = pg.footprint_m(P4P, 100)
    assert (width, height) == pytest.approx((150.0, 100.0), abs=0.01)
    assert pg.spacing_m(height, 80) == pytest.approx(20.0)
    assert pg.spacing_m(width, 70) == pytest.approx(45.0)
    assert pg.max_speed_m_s(20.0, P4P) == pytest.approx(10.0)  # one photo every 2 s


def test_altitude_for_a_target_gsd_inverts_the_gsd():
    for camera in CAMERAS.values():
        altitude = pg.distance_for_gsd(camera, 2.0)
        assert pg.gsd_m(camera, altitude) == pytest.approx(0.02)
    assert pg.distance_for_gsd(P4P, 2.74) == pytest.approx(100, abs=0.2)


def test_nadir_footprint_and_a_tilted_one():
    nadir = pg.footprint(P4P, 100)
    assert (nadir.near_m, nadir.far_m, nadir.width_m) == pytest.approx((-50, 50, 150))
    tilted = pg.footprint(P4P, 100, -60)
    along = math.degrees(math.atan(4.4 / 8.8))
    assert tilted.far_m == pytest.approx(100 * math.tan(math.radians(30 + along)))
    assert tilted.near_m == pytest.approx(100 * math.tan(math.radians(30 - along)))
    assert tilted.width_m < nadir.width_m  # the near edge is closer than the nadir ground
    with pytest.raises(ValueError):
        pg.footprint(P4P, 100, -20)  # the top of the image would show the horizon


def test_camera_names_are_forgiving_and_files_work(tmp_path):
    assert get_camera("DJI Phantom 4 Pro") is P4P
    assert get_camera("Mini_4_Pro") is CAMERAS["mini-4-pro"]
    path = tmp_path / "mycam.json"
    path.write_text('{"sensor_width_mm": 6.3, "sensor_height_mm": 4.7, "focal_length_mm": 4.5, '
                    '"image_width_px": 4000, "image_height_px": 3000, "min_photo_interval_s": 1}')
    assert get_camera(str(path)).name == "mycam"


@pytest.mark.parametrize("lat0", [0.0, 47.3, -33.9, 69.6])
def test_local_frame_matches_ellipsoid_radii_and_round_trips(lat0):
    a, e2 = 6378137.0, 0.00669437999014
    phi = math.radians(lat0)
    meridian = a * (1 - e2) / (1 - e2 * math.sin(phi) ** 2) ** 1.5  # m per radian of latitude
    normal = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)  # m per radian of longitude / cos(lat)
    frame = LocalFrame(lat0, 10.0)
    east, north = frame.to_local(lat0 + 1e-4, 10.0 + 1e-4)[0]
    assert north == pytest.approx(meridian * math.radians(1e-4), rel=1e-5)
    assert east == pytest.approx(normal * math.cos(phi) * math.radians(1e-4), rel=1e-5)
    rng = np.random.default_rng(1)
    lat, lon = lat0 + rng.uniform(-0.08, 0.08, 200), 10.0 + rng.uniform(-0.08, 0.08, 200)
    back_lat, back_lon = frame.to_wgs84(frame.to_local(lat, lon))
    assert np.abs(back_lat - lat).max() < 1e-9 and np.abs(back_lon - lon).max() < 1e-9


@pytest.mark.parametrize("near,far,step", [(-50, 50, 20), (-50, 50, 20.000001), (-45, 75, 33.3), (5, 130, 7)])
def test_rows_see_every_point_as_often_as_an_endless_row(near, far, step):
    lo, hi = 3.0, 187.0
    positions = rows(lo, hi, near, far, step)
    assert np.allclose(np.diff(positions), step)
    needed = math.floor((far - near) / step + 1e-9)
    for t in np.linspace(lo, hi, 2001):
        seen = np.sum((positions + near <= t + 1e-9) & (t - 1e-9 <= positions + far))
        assert seen >= needed
    assert positions[0] + far > lo and positions[-1] + near < hi  # every photo sees part of [lo, hi]


def test_estimates_and_splitting():
    assert route_length_m(np.array([[0, 0, 0], [3, 4, 0], [3, 4, 12]])) == pytest.approx(17)
    assert flight_time_s(1000, 10, 50, 2) == pytest.approx(200)
    assert batteries(1200, 20) == 1 and batteries(1201, 20) == 2 and batteries(0, 20) == 1
    assert split_points(99, 99) == [0]
    assert split_points(100, 99) == [0, 50]
    starts = split_points(1000, 99)
    sizes = np.diff([*starts, 1000])
    assert len(starts) == 11 and sizes.max() <= 99 and sizes.min() >= 90
