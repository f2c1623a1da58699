"""Grid and double-grid missions over a polygon.

In a frame turned to the lines (a: metres along them, c: metres across), lines are
placed every line spacing and photos every photo spacing, on regular rows that reach
past the polygon just far enough that every point of it is seen by as many photos as
on an endless grid: at 80 % front and 70 % side overlap, by at least 5 x 3 = 15. Each
line covers the part of the polygon inside its footprint's band; lines alternate in
direction; a concave polygon's line may have several photo runs with a gap between.
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon, box

from spaceport.errors import InputError
from spaceport.flightplan import photogrammetry as pg
from spaceport.flightplan.cameras import get_camera
from spaceport.flightplan.mission import Shot, check_altitude, finish, flight_speed, one_of_altitude_or_gsd
from spaceport.flightplan.models import FlightPlan, GridOptions
from spaceport.flightplan.polygon import local_polygon, longest_side_bearing

EPSILON_M = 1e-6


def rows(lo: float, hi: float, near: float, far: float, step: float) -> np.ndarray:
    """Positions every `step` metres such that each point of [lo, hi] is seen as often as by an endless row.

    A position u sees [u + near, u + far]; the row runs as far past [lo, hi] as needed and no further.
    """
    start, end = lo - far + step, hi - near - step
    gaps = max(0, math.floor((end - start) / step) + 1)
    first = (start + end) / 2 - gaps * step / 2
    return first + step * np.arange(gaps + 1)


def turn(points: np.ndarray, bearing_deg: float) -> np.ndarray:
    """(N, 2) east, north -> (N, 2) along (a), across (c) lines with compass bearing `bearing_deg`."""
    b = math.radians(bearing_deg)
    along, across = np.array([math.sin(b), math.cos(b)]), np.array([math.cos(b), -math.sin(b)])
    return np.column_stack([points @ along, points @ across])


def unturn(a: float, c: float, bearing_deg: float) -> tuple[float, float]:
    """Along/across metres -> east, north metres."""
    b = math.radians(bearing_deg)
    return a * math.sin(b) + c * math.cos(b), a * math.cos(b) - c * math.sin(b)


def runs(turned: Polygon, c: float, width: float, min_gap: float) -> list[tuple[float, float]]:
    """Along-line intervals of the polygon inside the band c ± width/2; runs closer than `min_gap` merged."""
    minx, _, maxx, _ = turned.bounds
    band = turned.intersection(box(minx - 1, c - width / 2 - EPSILON_M, maxx + 1, c + width / 2 + EPSILON_M))
    parts = sorted((g.bounds[0], g.bounds[2]) for g in getattr(band, "geoms", [band]) if not g.is_empty)
    merged: list[list[float]] = []
    for lo, hi in parts:
        if merged and lo - merged[-1][1] < min_gap:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def line_positions(
    spans: list[tuple[float, float]], direction: int, fp: pg.Footprint, step: float
) -> list[float]:
    """Photo positions along one line flown in `direction` (+1 or -1), in flying order."""
    near, far = (fp.near_m, fp.far_m) if direction > 0 else (-fp.far_m, -fp.near_m)
    positions = np.concatenate([rows(lo, hi, near, far, step) for lo, hi in spans])
    return sorted(positions.tolist(), key=lambda a: direction * a)


def grid_pass(
    polygon: Polygon, bearing: float, fp: pg.Footprint, photo_step: float, line_step: float,
    altitude: float, pitch: float, turnaround: float, reverse: bool = False,
) -> list[Shot]:
    """One pass of parallel lines at compass `bearing`, lines taken in order of c (descending if `reverse`)."""
    turned = Polygon(turn(np.asarray(polygon.exterior.coords), bearing))
    _, cmin, _, cmax = turned.bounds
    centres = rows(cmin, cmax, -fp.width_m / 2, fp.width_m / 2, line_step)
    shots: list[Shot] = []
    direction = 1
    for c in centres[::-1] if reverse else centres:
        spans = runs(turned, c, fp.width_m, fp.length_m)
        if not spans:
            continue
        along = line_positions(spans, direction, fp, photo_step)
        heading = bearing if direction > 0 else bearing + 180
        ends = [along[0] - direction * turnaround, along[-1] + direction * turnaround] if turnaround > 0 else []
        for a, photo in ([(ends[0], False)] if ends else []) + [(a, True) for a in along] + ([(ends[1], False)] if ends else []):
            east, north = unturn(a, c, bearing)
            shots.append(Shot(east, north, altitude, heading, pitch, photo))
        direction = -direction
    return shots


def plan_grid(options: GridOptions) -> FlightPlan:
    """Plan a grid (or double grid) survey of `options.polygon`."""
    camera = get_camera(options.camera)
    one_of_altitude_or_gsd(options)
    polygon, frame = local_polygon(options.polygon)
    altitude = options.altitude_m if options.altitude_m is not None else pg.distance_for_gsd(camera, options.gsd_cm)
    check_altitude(altitude, options)
    bearing = options.angle_deg % 360 if options.angle_deg is not None else longest_side_bearing(polygon)
    passes = [(bearing, options.gimbal_pitch_deg)] + ([(bearing + 90, options.oblique_pitch_deg)] if options.double_grid else [])
    shots: list[Shot] = []
    for angle, pitch in passes:
        fp = tilted_footprint(camera, altitude, pitch)
        photo_step = pg.spacing_m(fp.length_m, options.front_overlap_percent)
        line_step = pg.spacing_m(fp.width_m, options.side_overlap_percent)
        args = (polygon, angle, fp, photo_step, line_step, altitude, pitch, options.turnaround_m)
        candidates = [grid_pass(*args)] + ([grid_pass(*args, reverse=True)] if shots else [])
        shots += min(candidates, key=lambda run: join_length(shots, run))
    nadir_w, nadir_h = pg.footprint_m(camera, altitude)
    photo_spacing = pg.spacing_m(nadir_h, options.front_overlap_percent)
    max_speed = pg.max_speed_m_s(photo_spacing, camera)
    return finish(
        options, shots, frame, camera, flight_speed(options, max_speed, camera),
        altitude_m=round(altitude, 2), gsd_cm=round(pg.gsd_m(camera, altitude) * 100, 3),
        footprint_width_m=round(nadir_w, 2), footprint_height_m=round(nadir_h, 2), photo_spacing_m=round(photo_spacing, 2),
        line_spacing_m=round(pg.spacing_m(nadir_w, options.side_overlap_percent), 2), lines=count_lines(shots),
        area_m2=round(polygon.area, 1), max_speed_m_s=round(max_speed, 2),
    )


def tilted_footprint(camera, altitude: float, pitch: float) -> pg.Footprint:
    """The footprint at `pitch`; a pitch that shows the horizon is an InputError naming the limit."""
    try:
        return pg.footprint(camera, altitude, pitch)
    except ValueError as error:
        limit = -(pg.half_fov_deg(camera)[1] + 1.0)
        raise InputError(f"gimbal pitch = {pitch}: {error}; use {limit:.0f} degrees or steeper") from None


def join_length(before: list[Shot], after: list[Shot]) -> float:
    """Distance, m, from the last shot of `before` to the first of `after` (0 when `before` is empty)."""
    if not before or not after:
        return 0.0
    return math.hypot(before[-1].east - after[0].east, before[-1].north - after[0].north)


def count_lines(shots: list[Shot]) -> int:
    """Flight lines: runs of shots sharing a heading."""
    return sum(1 for i, shot in enumerate(shots) if i == 0 or shot.heading_deg != shots[i - 1].heading_deg)

