"""A local metric frame around a point: WGS84 latitude/longitude <-> metres east/north.

The frame is the tangent plane of the WGS84 ellipsoid at the origin (east-north-up);
a ground point is mapped to the plane by dropping its "up" coordinate (an orthographic
projection), and back by finding the ellipsoid point with those east/north metres.
Inside the 20 km that the planner accepts, distances in the plane differ from distances
on the ellipsoid by less than 5 parts per million (0.1 m over 20 km), and the
round trip WGS84 -> plane -> WGS84 is exact to better than 1e-9 degrees.
"""

from __future__ import annotations

import numpy as np

A = 6378137.0  # WGS84 semi-major axis, m
F = 1 / 298.257223563  # WGS84 flattening
E2 = F * (2 - F)  # first eccentricity squared


def geodetic_to_ecef(lat_deg: np.ndarray, lon_deg: np.ndarray, height_m: np.ndarray | float = 0.0) -> np.ndarray:
    """Latitude, longitude (degrees), ellipsoidal height (m) -> (N, 3) earth-centred coordinates, m."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    n = A / np.sqrt(1 - E2 * np.sin(lat) ** 2)
    return np.stack(
        [(n + height_m) * np.cos(lat) * np.cos(lon), (n + height_m) * np.cos(lat) * np.sin(lon),
         (n * (1 - E2) + height_m) * np.sin(lat)],
        axis=-1,
    )


def ecef_to_geodetic(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, 3) earth-centred metres -> latitude, longitude (degrees), height (m); iterated to 1e-12 rad."""
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1 - E2))
    for _ in range(10):
        n = A / np.sqrt(1 - E2 * np.sin(lat) ** 2)
        height = p / np.cos(lat) - n
        lat = np.arctan2(z, p * (1 - E2 * n / (n + height)))
    n = A / np.sqrt(1 - E2 * np.sin(lat) ** 2)
    height = p / np.cos(lat) - n
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), height


class LocalFrame:
    """Metres east (x) and north (y) on the tangent plane at (`lat0`, `lon0`) degrees."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = float(lat0), float(lon0)
        self.origin = geodetic_to_ecef(np.array(lat0), np.array(lon0))
        lat, lon = np.radians(lat0), np.radians(lon0)
        self.rotation = np.array([  # rows: east, north, up unit vectors in earth-centred coordinates
            [-np.sin(lon), np.cos(lon), 0.0],
            [-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)],
            [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)],
        ])

    def to_local(self, lat_deg, lon_deg) -> np.ndarray:
        """Latitude, longitude (degrees, scalars or arrays) of ground points -> (N, 2) metres east, north."""
        ecef = geodetic_to_ecef(np.atleast_1d(np.asarray(lat_deg, float)), np.atleast_1d(np.asarray(lon_deg, float)))
        return ((ecef - self.origin) @ self.rotation.T)[:, :2]

    def to_wgs84(self, east_north: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) metres east, north -> latitude, longitude (degrees) of the ground point below."""
        en = np.atleast_2d(np.asarray(east_north, dtype=float))
        up = np.zeros(len(en))
        for _ in range(5):  # the ground (height 0) lies below the plane: find its "up" coordinate
            local = np.column_stack([en, up])
            lat, lon, height = ecef_to_geodetic(self.origin + local @ self.rotation)
            up = up - height * np.cos(np.radians(lat - self.lat0))
        lat, lon, _ = ecef_to_geodetic(self.origin + np.column_stack([en, up]) @ self.rotation)
        return lat, lon
