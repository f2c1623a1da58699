"""Mission requests and results: pydantic models shared by the library, the CLI and the API.

Units: metres, degrees, seconds. Headings are compass bearings (0 = north, 90 = east);
gimbal pitch is -90 straight down, 0 at the horizon. Altitudes are above the take-off
point, which the planner takes to be at the level of the ground being mapped.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from spaceport.errors import InputError

LEGAL_ALTITUDE_M = 120.0  # EU open category 120 m; US Part 107: 400 ft (121.9 m)


class Camera(BaseModel):
    """A camera's geometry. Photos are taken in landscape, image width across the flight line."""

    name: str = Field(description="Display name, e.g. 'DJI Phantom 4 Pro'.")
    sensor_width_mm: float = Field(gt=0, le=100, description="Sensor width, mm (the long side).")
    sensor_height_mm: float = Field(gt=0, le=100, description="Sensor height, mm (the short side).")
    focal_length_mm: float = Field(gt=0, le=500, description="True (not 35 mm equivalent) focal length, mm.")
    image_width_px: int = Field(gt=0, le=100_000, description="Image width, px (the long side).")
    image_height_px: int = Field(gt=0, le=100_000, description="Image height, px (the short side).")
    min_photo_interval_s: float = Field(gt=0, le=60, description="Shortest time between two photos, s.")


class MissionOptions(BaseModel):
    """What every mission needs: camera, altitude (or GSD), speed, battery, app limits."""

    camera: str | Camera = Field(
        "phantom-4-pro", description="Built-in camera name, a JSON file with the camera's fields, or the fields themselves."
    )
    altitude_m: float | None = Field(None, gt=0, description="Flight altitude above take-off, m (or give gsd_cm).")
    gsd_cm: float | None = Field(None, gt=0, le=100, description="Target ground sample distance, cm/px (or give altitude_m).")
    speed_m_s: float | None = Field(
        None, gt=0, le=20, description="Flight speed, m/s; default: the fastest the camera allows, at most 10 m/s."
    )
    allow_high_altitude: bool = Field(
        False, description=f"Allow altitudes above the {LEGAL_ALTITUDE_M:.0f} m legal limit (with an authorization)."
    )
    battery_minutes: float = Field(20.0, gt=0, le=120, description="Usable flight time per battery, minutes, reserve kept.")
    photo_overhead_s: float = Field(
        0.0, ge=0, le=30, description="Extra seconds per photo when the app stops at each photo (e.g. Litchi straight lines)."
    )
    max_waypoints: int = Field(99, ge=2, le=65535, description="Most waypoints per mission (Litchi: 99); longer ones are split.")


class GridOptions(MissionOptions):
    """A survey of a polygon: parallel lines, photos along them; optionally a second, oblique pass."""

    kind: Literal["grid"] = "grid"
    polygon: dict[str, Any] = Field(description="Area to map: a GeoJSON Polygon (WGS84), or a Feature/FeatureCollection holding one.")
    front_overlap_percent: float = Field(80.0, gt=0, lt=100, description="Overlap of successive photos along a line, %.")
    side_overlap_percent: float = Field(70.0, gt=0, lt=100, description="Overlap of photos on neighbouring lines, %.")
    angle_deg: float | None = Field(
        None, ge=-360, le=360, description="Compass bearing of the lines, degrees; default: along the polygon's longest side."
    )
    double_grid: bool = Field(False, description="Fly a second pass at 90 degrees with the gimbal tilted (oblique 3D capture).")
    gimbal_pitch_deg: float = Field(-90.0, ge=-90, le=-30, description="Gimbal pitch of the first pass, degrees (-90: nadir).")
    oblique_pitch_deg: float = Field(-60.0, ge=-90, le=-30, description="Gimbal pitch of the second (double grid) pass, degrees.")
    turnaround_m: float = Field(10.0, ge=0, le=200, description="Straight run before the first and after the last photo of each line, m.")


class OrbitOptions(MissionOptions):
    """Rings around a point of interest, photos every few degrees, camera aimed at the point."""

    kind: Literal["orbit"] = "orbit"
    latitude: float = Field(ge=-90, le=90, description="Point of interest latitude, degrees (WGS84).")
    longitude: float = Field(ge=-180, le=180, description="Point of interest longitude, degrees (WGS84).")
    radius_m: float = Field(gt=0, le=2000, description="Horizontal distance from the point of interest, m.")
    target_altitude_m: float = Field(0.0, ge=-200, le=500, description="Height of the aimed point above take-off, m.")
    angle_step_deg: float = Field(10.0, ge=1, le=90, description="Angle around the point between photos, degrees.")
    rings: int = Field(1, ge=1, le=20, description="Number of rings, one above the other.")
    ring_spacing_m: float = Field(10.0, gt=0, le=200, description="Altitude step between rings, m.")
    start_bearing_deg: float = Field(0.0, ge=0, lt=360, description="Bearing from the point to the first photo, degrees.")
    clockwise: bool = Field(True, description="Fly clockwise seen from above.")


class Waypoint(BaseModel):
    """One point of the route; `photo` when a photo is taken there."""

    latitude: float = Field(description="Degrees, WGS84.")
    longitude: float = Field(description="Degrees, WGS84.")
    altitude_m: float = Field(description="Above take-off, m.")
    heading_deg: float = Field(description="Aircraft heading, compass degrees 0..360.")
    gimbal_pitch_deg: float = Field(description="Degrees, -90 straight down.")
    photo: bool = Field(description="Take a photo here.")


class Summary(BaseModel):
    """The mission in numbers."""

    kind: str
    camera: str
    altitude_m: float = Field(description="Flight altitude above take-off (lowest ring for orbits), m.")
    gsd_cm: float = Field(description="Ground sample distance (orbit: at the point of interest), cm/px.")
    footprint_width_m: float = Field(description="Nadir footprint across the line, m.")
    footprint_height_m: float = Field(description="Nadir footprint along the line, m.")
    photo_spacing_m: float = Field(description="Distance between photos, m.")
    line_spacing_m: float | None = Field(None, description="Distance between lines (grid), m.")
    lines: int = Field(0, description="Flight lines (grid) or rings (orbit).")
    area_m2: float | None = Field(None, description="Area of the polygon (grid), m².")
    photos: int
    waypoints: int
    distance_m: float = Field(description="Route length from the first to the last waypoint, m.")
    speed_m_s: float
    max_speed_m_s: float = Field(description="Fastest speed at which the camera keeps up, m/s.")
    flight_time_s: float = Field(description="Distance / speed plus photo overheads, s (take-off, landing and transit excluded).")
    batteries: int
    missions: int = Field(description="Missions after splitting at max_waypoints.")

    def text(self) -> str:
        """A few lines for people: what will be flown and what it takes."""
        lines = f"{self.lines} lines, {self.line_spacing_m} m apart" if self.line_spacing_m else f"{self.lines} ring(s)"
        area = f" over {self.area_m2 / 10_000:.2f} ha" if self.area_m2 else ""
        minutes, seconds = divmod(round(self.flight_time_s), 60)
        return (
            f"{self.kind} mission{area}, {self.camera} at {self.altitude_m} m: GSD {self.gsd_cm} cm/px, "
            f"footprint {self.footprint_width_m} x {self.footprint_height_m} m\n"
            f"{self.photos} photos every {self.photo_spacing_m} m, {lines}; {self.waypoints} waypoints in "
            f"{plural(self.missions, 'mission')}\n"
            f"{self.distance_m / 1000:.2f} km at {self.speed_m_s} m/s (camera allows {self.max_speed_m_s}): "
            f"{minutes} min {seconds:02d} s, {plural(self.batteries, 'battery', 'batteries')}"
        )


def plural(count: int, one: str, many: str | None = None) -> str:
    """'1 mission', '3 missions'."""
    return f"{count} {one if count == 1 else many or one + 's'}"


class FlightPlan(BaseModel):
    """A planned mission: the request, its waypoints, where it is split, and the summary."""

    request: GridOptions | OrbitOptions = Field(discriminator="kind")
    waypoints: list[Waypoint]
    splits: list[int] = Field(description="Index of the first waypoint of each mission after splitting.")
    summary: Summary

    def missions(self) -> list[list[Waypoint]]:
        """The waypoints of each mission after splitting at the app's waypoint limit."""
        bounds = [*self.splits, len(self.waypoints)]
        return [self.waypoints[start:end] for start, end in zip(bounds, bounds[1:])]


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], values: dict[str, Any]) -> Model:
    """Validate `values` as `model`; a problem becomes an InputError naming the field, value and rule."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise InputError(describe(error)) from None


def describe(error: ValidationError) -> str:
    """The first problem of a pydantic error as 'field = value: rule'."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "value"
    value = first.get("input")
    shown = "missing" if first["type"] == "missing" else repr(value)
    return f"{field} = {shown}: {first['msg']}"
