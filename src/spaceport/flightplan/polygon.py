"""The area to map: a GeoJSON polygon in WGS84, checked and put into local metres."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from spaceport.errors import InputError
from spaceport.flightplan.geodesy import LocalFrame

MAX_EXTENT_M = 20_000.0  # the local frame stays accurate (5 ppm) up to this size


def polygon_ring(geojson: dict[str, Any]) -> list[list[float]]:
    """The outer ring ([lon, lat] pairs) of a GeoJSON Polygon, or of a Feature / FeatureCollection of one."""
    kind = geojson.get("type")
    if kind == "FeatureCollection":
        features = geojson.get("features") or []
        if len(features) != 1:
            raise InputError(f"polygon: the FeatureCollection holds {len(features)} features; give exactly one Polygon")
        return polygon_ring(features[0])
    if kind == "Feature":
        return polygon_ring(geojson.get("geometry") or {})
    if kind != "Polygon":
        raise InputError(f"polygon: GeoJSON type {kind!r} is not a Polygon")
    rings = geojson.get("coordinates") or []
    if not rings or len(rings[0]) < 4:
        raise InputError("polygon: the outer ring needs at least 3 distinct corners (4 positions, the last repeating the first)")
    if len(rings) > 1:
        raise InputError(f"polygon: holes are not supported ({len(rings) - 1} given); map the whole area")
    return rings[0]


def check_coordinates(ring: list[list[float]]) -> np.ndarray:
    """(N, 2) longitude, latitude in degrees, after checking each position's range."""
    try:
        lonlat = np.array([[float(p[0]), float(p[1])] for p in ring])
    except (TypeError, ValueError, IndexError):
        raise InputError("polygon: every position must be [longitude, latitude] in degrees") from None
    bad = np.flatnonzero((np.abs(lonlat[:, 0]) > 180) | (np.abs(lonlat[:, 1]) > 90) | ~np.isfinite(lonlat).all(axis=1))
    if len(bad):
        lon, lat = lonlat[bad[0]]
        raise InputError(
            f"polygon position {bad[0]} = [{lon}, {lat}]: longitude must be within ±180 and latitude within ±90 degrees "
            "(GeoJSON order is [longitude, latitude])"
        )
    return lonlat


def local_polygon(geojson: dict[str, Any]) -> tuple[Polygon, LocalFrame]:
    """The polygon in metres east/north of its centre, and that frame; bad shapes raise InputError."""
    lonlat = check_coordinates(polygon_ring(geojson))
    frame = LocalFrame(float(lonlat[:, 1].mean()), float(lonlat[:, 0].mean()))
    polygon = Polygon(frame.to_local(lonlat[:, 1], lonlat[:, 0]))
    if not polygon.is_valid:
        raise InputError(f"polygon is not valid: {explain_validity(polygon)}; draw the boundary without crossing itself")
    if polygon.area < 1.0:
        raise InputError(f"polygon area is {polygon.area:.2f} m²; it must be at least 1 m²")
    minx, miny, maxx, maxy = polygon.bounds
    extent = max(maxx - minx, maxy - miny)
    if extent > MAX_EXTENT_M:
        raise InputError(f"polygon spans {extent / 1000:.1f} km; at most {MAX_EXTENT_M / 1000:.0f} km across, split the area")
    return shapely.normalize(polygon), frame


def longest_side_bearing(polygon: Polygon) -> float:
    """Compass bearing (0..180 degrees) of the polygon's longest side."""
    corners = np.asarray(polygon.exterior.coords)
    sides = np.diff(corners, axis=0)
    east, north = sides[np.argmax(np.hypot(sides[:, 0], sides[:, 1]))]
    return math.degrees(math.atan2(east, north)) % 180.0


def load_geojson(path: str) -> dict[str, Any]:
    """A GeoJSON file's content; a missing or unreadable file raises InputError naming it."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise InputError(f"polygon file {path}: cannot read it ({error.strerror or error})") from None
    except ValueError as error:
        raise InputError(f"polygon file {path}: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise InputError(f"polygon file {path}: not a GeoJSON object")
    return data
