"""Mission exports: Litchi CSV, KML, GeoJSON, and DJI WPML (KMZ, in `wpml.py`).

`export(plan, format, stem)` gives {file name: bytes}: one file for KML and GeoJSON
(each mission a folder / a route feature), one file per mission for Litchi and WPML,
whose apps load one mission at a time. `write` puts them on disk. Which apps and aircraft
each format targets, and which fields are uncertain, is in docs/flightplan.md.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from spaceport.errors import InputError
from spaceport.flightplan.models import FlightPlan, GridOptions, Waypoint
from spaceport.flightplan.polygon import polygon_ring
from spaceport.flightplan.wpml import wpml_kmz

FORMATS = {"litchi": ".csv", "kml": ".kml", "geojson": ".geojson", "wpml": ".kmz"}

LITCHI_HEADER = [
    "latitude", "longitude", "altitude(m)", "heading(deg)", "curvesize(m)", "rotationdir", "gimbalmode", "gimbalpitchangle",
    *[f"action{part}{i}" for i in range(1, 16) for part in ("type", "param")],
    "altitudemode", "speed(m/s)", "poi_latitude", "poi_longitude", "poi_altitude(m)", "poi_altitudemode",
    "photo_timeinterval", "photo_distinterval",
]
LITCHI_TAKE_PHOTO, LITCHI_NO_ACTION = 1, -1
LITCHI_GIMBAL_INTERPOLATE = 2


def degrees(value: float) -> str:
    """A latitude or longitude with 9 decimals (0.1 mm): round-trips to well within 1e-7 degrees."""
    return f"{value:.9f}"


def litchi_row(waypoint: Waypoint, speed: float, poi: tuple[float, float, float] | None) -> list[str]:
    """One Litchi CSV row: position, heading, gimbal pitch (interpolated), a photo action, speed, POI."""
    actions = [str(LITCHI_TAKE_PHOTO), "0"] if waypoint.photo else [str(LITCHI_NO_ACTION), "0"]
    actions += [str(LITCHI_NO_ACTION), "0"] * 14
    poi_cells = [degrees(poi[0]), degrees(poi[1]), f"{poi[2]:.2f}"] if poi else ["0", "0", "0"]
    return [
        degrees(waypoint.latitude), degrees(waypoint.longitude), f"{waypoint.altitude_m:.2f}",
        f"{waypoint.heading_deg % 360:.2f}", "0", "0", str(LITCHI_GIMBAL_INTERPOLATE), f"{waypoint.gimbal_pitch_deg:.2f}",
        *actions, "0", f"{speed:.2f}", *poi_cells, "0", "-1", "-1",
    ]


def litchi_csv(plan: FlightPlan, waypoints: list[Waypoint]) -> str:
    """Litchi mission CSV (metric header) for `waypoints`, one mission of the plan."""
    request = plan.request
    poi = None if isinstance(request, GridOptions) else (request.latitude, request.longitude, request.target_altitude_m)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LITCHI_HEADER)
    writer.writerows(litchi_row(w, plan.summary.speed_m_s, poi) for w in waypoints)
    return out.getvalue()


def kml_text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = text
    return child


def kml_placemark(parent: ET.Element, name: str, geometry: str, coordinates: str, data: dict[str, str]) -> None:
    """A KML Placemark with ExtendedData and one geometry at heights relative to the ground."""
    placemark = ET.SubElement(parent, "Placemark")
    kml_text(placemark, "name", name)
    if data:
        extended = ET.SubElement(placemark, "ExtendedData")
        for key, value in data.items():
            kml_text(ET.SubElement(extended, "Data", name=key), "value", value)
    shape = ET.SubElement(placemark, geometry)
    kml_text(shape, "altitudeMode", "relativeToGround")
    if geometry == "Polygon":
        shape = ET.SubElement(ET.SubElement(shape, "outerBoundaryIs"), "LinearRing")
    kml_text(shape, "coordinates", coordinates)


def position(waypoint: Waypoint) -> str:
    return f"{degrees(waypoint.longitude)},{degrees(waypoint.latitude)},{waypoint.altitude_m:.2f}"


def kml(plan: FlightPlan) -> str:
    """KML for Google Earth and GIS: the area (grid), and per mission its route and waypoints."""
    ET.register_namespace("", "http://www.opengis.net/kml/2.2")
    root = ET.Element("{http://www.opengis.net/kml/2.2}kml")
    document = ET.SubElement(root, "Document")
    kml_text(document, "name", f"Spaceport {plan.summary.kind} mission ({plan.summary.camera})")
    if isinstance(plan.request, GridOptions):
        ring = " ".join(f"{degrees(lon)},{degrees(lat)},0" for lon, lat, *_ in area_ring(plan))
        kml_placemark(document, "Area", "Polygon", ring, {})
    for number, waypoints in enumerate(plan.missions(), start=1):
        folder = ET.SubElement(document, "Folder")
        kml_text(folder, "name", f"Mission {number}")
        kml_placemark(folder, "Route", "LineString", " ".join(position(w) for w in waypoints), {})
        for index, waypoint in enumerate(waypoints, start=1):
            data = {"heading_deg": f"{waypoint.heading_deg:.2f}", "gimbal_pitch_deg": f"{waypoint.gimbal_pitch_deg:.2f}",
                    "photo": str(waypoint.photo).lower()}
            kml_placemark(folder, f"WP{index}", "Point", position(waypoint), data)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def area_ring(plan: FlightPlan) -> list[list[float]]:
    """The grid's polygon ring as given ([lon, lat, ...] positions)."""
    return polygon_ring(plan.request.polygon)


def geojson(plan: FlightPlan) -> str:
    """GeoJSON FeatureCollection: the area or point of interest, a route per mission, and every waypoint."""
    features = []
    if isinstance(plan.request, GridOptions):
        features.append({"type": "Feature", "properties": {"role": "area"},
                         "geometry": {"type": "Polygon", "coordinates": [area_ring(plan)]}})
    else:
        features.append({"type": "Feature", "properties": {"role": "point_of_interest"}, "geometry": {
            "type": "Point", "coordinates": [plan.request.longitude, plan.request.latitude, plan.request.target_altitude_m]}})
    for number, waypoints in enumerate(plan.missions(), start=1):
        line = [[w.longitude, w.latitude, w.altitude_m] for w in waypoints]
        features.append({"type": "Feature", "properties": {"role": "route", "mission": number},
                         "geometry": {"type": "LineString", "coordinates": line}})
        for index, w in enumerate(waypoints, start=1):
            properties = {"role": "waypoint", "mission": number, "index": index, "altitude_m": w.altitude_m,
                          "heading_deg": w.heading_deg, "gimbal_pitch_deg": w.gimbal_pitch_deg, "photo": w.photo}
            features.append({"type": "Feature", "properties": properties,
                             "geometry": {"type": "Point", "coordinates": [w.longitude, w.latitude, w.altitude_m]}})
    collection = {"type": "FeatureCollection", "properties": plan.summary.model_dump(), "features": features}
    return json.dumps(collection, indent=1) + "\n"


def export(plan: FlightPlan, format: str, stem: str = "mission") -> dict[str, bytes]:
    """{file name: content} of `plan` in `format` (one of FORMATS); per-mission files are numbered stem-1, stem-2..."""
    if format not in FORMATS:
        raise InputError(f"format = {format!r}: not one of {', '.join(FORMATS)}")
    suffix = FORMATS[format]
    if format == "kml":
        return {stem + suffix: kml(plan).encode()}
    if format == "geojson":
        return {stem + suffix: geojson(plan).encode()}
    missions = plan.missions()
    names = [stem + suffix] if len(missions) == 1 else [f"{stem}-{i}{suffix}" for i in range(1, len(missions) + 1)]
    render = (lambda w: litchi_csv(plan, w).encode()) if format == "litchi" else (lambda w: wpml_kmz(plan, w))
    return {name: render(waypoints) for name, waypoints in zip(names, missions)}


def write(plan: FlightPlan, format: str, path: Path) -> list[Path]:
    """Write `plan` in `format` to `path` (numbered siblings when split into missions); the paths written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix or FORMATS.get(format, "")
    written = []
    for name, content in export(plan, format, path.stem).items():
        target = path.with_name(Path(name).stem + suffix)
        target.write_bytes(content)
        written.append(target)
    return written
