"""Estimates for a route (length, flight time, batteries) and splitting at an app's waypoint limit."""

from __future__ import annotations

import math

import numpy as np


def route_length_m(points: np.ndarray) -> float:
    """Length of the polyline through (N, 3) points east, north, up (metres), in metres."""
    if len(points) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


def flight_time_s(distance_m: float, speed_m_s: float, photos: int, photo_overhead_s: float) -> float:
    """Seconds to fly `distance_m` at `speed_m_s`, plus `photo_overhead_s` for each photo."""
    return distance_m / speed_m_s + photos * photo_overhead_s


def batteries(flight_time_s: float, battery_minutes: float) -> int:
    """Batteries needed for `flight_time_s`, each good for `battery_minutes` of flight (at least 1)."""
    return max(1, math.ceil(flight_time_s / (battery_minutes * 60) - 1e-9))


def split_points(count: int, limit: int) -> list[int]:
    """First index of each mission when `count` waypoints are split into the fewest missions of at most `limit`.

    The missions are as even as possible: 150 waypoints at a limit of 99 become 75 + 75.
    """
    missions = max(1, math.ceil(count / limit))
    return [round(i * count / missions) for i in range(missions)]
