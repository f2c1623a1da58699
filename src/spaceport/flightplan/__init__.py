"""Capture flight planning: where a drone should fly and shoot, exported for the apps pilots use.

    plan = plan_mission(GridOptions(polygon=geojson, camera="phantom-4-pro", altitude_m=80))
    plan.summary.photos, plan.waypoints, export(plan, "litchi")

Missions: `plan_grid` (parallel lines over a polygon, optionally a second oblique pass),
`plan_orbit` (rings around a point). Exports: Litchi CSV, KML, GeoJSON, DJI WPML (KMZ).
"""

from __future__ import annotations

from spaceport.flightplan import cameras
from spaceport.flightplan.cameras import CAMERAS, Camera, get_camera
from spaceport.flightplan.exports import FORMATS, export, write
from spaceport.flightplan.grid import plan_grid
from spaceport.flightplan.models import FlightPlan, GridOptions, OrbitOptions, Summary, Waypoint, parse
from spaceport.flightplan.orbit import plan_orbit
from spaceport.flightplan.polygon import load_geojson


def plan_mission(request: GridOptions | OrbitOptions) -> FlightPlan:
    """Plan a grid or orbit mission from its request."""
    return plan_grid(request) if isinstance(request, GridOptions) else plan_orbit(request)


__all__ = [
    "CAMERAS", "Camera", "FORMATS", "FlightPlan", "GridOptions", "OrbitOptions", "Summary", "Waypoint",
    "export", "get_camera", "load_geojson", "parse", "plan_grid", "plan_mission", "plan_orbit", "write",
]
