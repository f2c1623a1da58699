"""Grid missions: every point of random convex and concave polygons is seen with the requested overlap.

Footprints are rebuilt here from each exported photo waypoint (position, heading, altitude)
and the camera's published numbers, not taken from the planner's internals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from spaceport.flightplan import CAMERAS, GridOptions, plan_grid
from spaceport.flightplan.geodesy import LocalFrame

LAT0, LON0 = 47.37, 8.54
TOLERANCE_M = 0.01


def geojson(frame: LocalFrame, corners: np.ndarray) -> dict:
    lat, lon = frame.to_wgs84(corners)
    ring = [[float(lo), float(la)] for la, lo in zip(lat, lon)]
    return {"type": "Polygon", "coordinates": [ring + ring[:1]]}


def convex_polygon(rng) -> np.ndarray:
    from shapely import convex_hull, MultiPoint

    points = rng.uniform(-1, 1, (12, 2)) * rng.uniform(150, 400, 2)
    return np.asarray(convex_hull(MultiPoint(points)).exterior.coords)[:-1]


def concave_polygon(rng) -> np.ndarray:
    angles = np.sort(rng.uniform(0, 2 * np.pi, 11))
    radii = rng.uniform(80, 350, 11)
    radii[::2] *= 0.35  # deep notches: a star, clearly not convex
    return np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])


def seen_counts(points: np.ndarray, centres: np.ndarray, headings: np.ndarray, width: float, length: float) -> np.ndarray:
    """How many nadir footprints (width across, length along each heading) contain each point."""
    b = np.radians(headings)
    along = np.column_stack([np.sin(b), np.cos(b)])
    across = np.column_stack([np.cos(b), -np.sin(b)])
    d = points[:, None, :] - centres[None, :, :]
    inside_along = np.abs(np.einsum("pcx,cx->pc", d, along)) <= length / 2 + TOLERANCE_M
    inside_across = np.abs(np.einsum("pcx,cx->pc", d, across)) <= width / 2 + TOLERANCE_M
    return (inside_along & inside_across).sum(axis=1)


def sample_points(shape: Polygon, rng, count: int = 1500) -> np.ndarray:
    minx, miny, maxx, maxy = shape.bounds
    candidates = np.column_stack([rng.uniform(minx, maxx, count * 3), rng.uniform(miny, maxy, count * 3)])
    inside = [p for p in candidates if shape.contains(Point(p))][:count]
    boundary = [shape.exterior.interpolate(t, normalized=True).coords[0] for t in np.linspace(0, 1, 400)]
    return np.array(inside + boundary)


def check_coverage(corners, options: GridOptions, rng):
    frame = LocalFrame(LAT0, LON0)
    shape = Polygon(corners)
    plan = plan_grid(options.model_copy(update={"polygon": geojson(frame, corners)}))
    camera = CAMERAS[options.camera]
    altitude = plan.summary.altitude_m
    width = camera.sensor_width_mm * altitude / camera.focal_length_mm
    length = camera.sensor_height_mm * altitude / camera.focal_length_mm
    photos = [w for w in plan.waypoints if w.photo and w.gimbal_pitch_deg == -90]
    centres = frame.to_local([w.latitude for w in photos], [w.longitude for w in photos])
    headings = np.array([w.heading_deg for w in photos])
    needed = math.floor(100 / (100 - options.front_overlap_percent) + 1e-9) * math.floor(
        100 / (100 - options.side_overlap_percent) + 1e-9)
    counts = seen_counts(sample_points(shape, rng), centres, headings, width, length)
    assert counts.min() >= needed, f"a point is seen by {counts.min()} photos, fewer than {needed}"
    half_diagonal = math.hypot(width, length) / 2
    for centre, heading in zip(centres, headings):
        assert shape.distance(Point(centre)) < half_diagonal  # no photo far outside: each one sees the area
    return plan, photos, centres


@pytest.mark.parametrize("seed", range(4))
def test_random_convex_polygons_are_covered_with_the_requested_overlap(seed):
    rng = np.random.default_rng(seed)
    front, side = [(80, 70), (75, 60), (85, 75), (70, 65)][seed]
    options = GridOptions(polygon={}, camera=["phantom-4-pro", "mavic-3-enterprise", "mini-4-pro", "air-3"][seed],
                          altitude_m=rng.uniform(50, 110), front_overlap_percent=front, side_overlap_percent=side,
                          angle_deg=None if seed % 2 else rng.uniform(0, 360))
    check_coverage(convex_polygon(rng), options, rng)


@pytest.mark.parametrize("seed", range(4))
def test_random_concave_polygons_are_covered_with_the_requested_overlap(seed):
    rng = np.random.default_rng(100 + seed)
    options = GridOptions(polygon={}, camera="phantom-4-pro", altitude_m=rng.uniform(40, 70),
                          angle_deg=rng.uniform(0, 180) if seed % 2 else None)
    corners = concave_polygon(rng)
    assert not Polygon(corners).equals(Polygon(corners).convex_hull)
    check_coverage(corners, options, rng)


def test_lines_follow_the_longest_side_alternate_and_keep_photo_spacing():
    frame = LocalFrame(LAT0, LON0)
    corners = np.array([[0, 0], [600, 300], [500, 500], [-50, 250]])  # longest side bears atan2(600, 300)
    plan = plan_grid(GridOptions(polygon=geojson(frame, corners), altitude_m=100, turnaround_m=0))
    longest = math.degrees(math.atan2(600, 300))
    headings = sorted({round(w.heading_deg, 6) for w in plan.waypoints})
    assert headings == pytest.approx(sorted([longest, longest + 180]), abs=0.01)  # north of another frame: 0.002°
    first_line = [w for w in plan.waypoints[:50] if round(w.heading_deg, 6) == headings[0]] or plan.waypoints
    positions = frame.to_local([w.latitude for w in plan.waypoints], [w.longitude for w in plan.waypoints])
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    same_line = np.array([a.heading_deg == b.heading_deg for a, b in zip(plan.waypoints, plan.waypoints[1:])])
    assert steps[same_line] == pytest.approx(20.0, abs=1e-3)  # photos every 20 m along each line
    assert first_line and plan.summary.photo_spacing_m == 20.0 and plan.summary.line_spacing_m == 45.0
    flips = sum(1 for a, b in zip(plan.waypoints, plan.waypoints[1:]) if a.heading_deg != b.heading_deg)
    assert flips == plan.summary.lines - 1


def test_turnaround_waypoints_lie_beyond_each_line_without_photos():
    frame = LocalFrame(LAT0, LON0)
    corners = np.array([[0, 0], [400, 0], [400, 200], [0, 200]])
    plan = plan_grid(GridOptions(polygon=geojson(frame, corners), altitude_m=80, angle_deg=90, turnaround_m=15))
    first, second = plan.waypoints[0], plan.waypoints[1]
    assert not first.photo and second.photo
    a, b = frame.to_local([first.latitude, second.latitude], [first.longitude, second.longitude])
    assert np.linalg.norm(a - b) == pytest.approx(15.0, abs=1e-3)
    assert plan.summary.waypoints == plan.summary.photos + 2 * plan.summary.lines


def test_double_grid_adds_an_oblique_pass_at_ninety_degrees():
    frame = LocalFrame(LAT0, LON0)
    corners = np.array([[0, 0], [300, 0], [300, 200], [0, 200]])
    rng = np.random.default_rng(7)
    options = GridOptions(polygon={}, altitude_m=60, angle_deg=90, double_grid=True, oblique_pitch_deg=-65)
    plan, nadir, _ = check_coverage(corners, options, rng)  # the first pass alone covers the area
    oblique = [w for w in plan.waypoints if w.gimbal_pitch_deg != -90]
    assert oblique and all(w.gimbal_pitch_deg == -65 for w in oblique)
    assert {round(w.heading_deg) % 180 for w in nadir} == {90}
    assert {round(w.heading_deg) % 180 for w in oblique} == {0}
    single = plan_grid(options.model_copy(update={"polygon": geojson(frame, corners), "double_grid": False}))
    assert plan.summary.photos > single.summary.photos and plan.summary.distance_m > single.summary.distance_m


def test_estimates_follow_the_route():
    frame = LocalFrame(LAT0, LON0)
    corners = np.array([[0, 0], [1200, 0], [1200, 900], [0, 900]])
    options = GridOptions(polygon=geojson(frame, corners), altitude_m=60, speed_m_s=5, battery_minutes=15, photo_overhead_s=1)
    plan = plan_grid(options)
    positions = frame.to_local([w.latitude for w in plan.waypoints], [w.longitude for w in plan.waypoints])
    distance = np.linalg.norm(np.diff(positions, axis=0), axis=1).sum()
    assert plan.summary.distance_m == pytest.approx(distance, rel=1e-4)
    assert plan.summary.flight_time_s == pytest.approx(distance / 5 + plan.summary.photos, rel=1e-4)
    assert plan.summary.batteries == math.ceil(plan.summary.flight_time_s / 900)
    missions = plan.missions()
    assert len(missions) == plan.summary.missions == math.ceil(len(plan.waypoints) / 99)
    assert all(len(m) <= 99 for m in missions) and sum(len(m) for m in missions) == len(plan.waypoints)


def ground_quad(centre, heading_deg, pitch_deg, altitude, camera) -> Polygon:
    """The ground seen by a camera at `altitude`, looking along `heading_deg`, tilted down `pitch_deg` (ray casting)."""
    half_w = camera.sensor_width_mm / 2 / camera.focal_length_mm
    half_h = camera.sensor_height_mm / 2 / camera.focal_length_mm
    down = math.radians(-pitch_deg)
    forward = np.array([0.0, math.cos(down), -math.sin(down)])  # optical axis in (right, ahead, up)
    up_in_image = np.array([0.0, math.sin(down), math.cos(down)])
    right = np.array([1.0, 0.0, 0.0])
    b = math.radians(heading_deg)
    corners = []
    for sx, sy in [(-1, -1), (1, -1), (1, 1), (-1, 1)]:
        ray = forward + sx * half_w * right + sy * half_h * up_in_image
        t = altitude / -ray[2]
        x, y = ray[0] * t, ray[1] * t  # metres right of and ahead of the aircraft
        corners.append((centre[0] + x * math.cos(b) + y * math.sin(b), centre[1] - x * math.sin(b) + y * math.cos(b)))
    return Polygon(corners)


def test_oblique_pass_alone_covers_the_area_with_the_requested_overlap():
    frame = LocalFrame(LAT0, LON0)
    corners = np.array([[0, 0], [260, 40], [300, 220], [120, 140], [20, 230]])  # concave
    plan = plan_grid(GridOptions(polygon=geojson(frame, corners), altitude_m=60, double_grid=True, oblique_pitch_deg=-60,
                                 front_overlap_percent=75, side_overlap_percent=60))
    camera = CAMERAS["phantom-4-pro"]
    oblique = [w for w in plan.waypoints if w.photo and w.gimbal_pitch_deg == -60]
    centres = frame.to_local([w.latitude for w in oblique], [w.longitude for w in oblique])
    quads = [ground_quad(c, w.heading_deg, -60, 60, camera).buffer(TOLERANCE_M, join_style="mitre") for c, w in zip(centres, oblique)]
    shape = Polygon(corners)
    points = sample_points(shape, np.random.default_rng(3), 600)
    counts = [sum(q.covers(Point(p)) for q in quads) for p in points]
    assert min(counts) >= 4 * 2
    assert all(q.intersects(shape) for q in quads)
