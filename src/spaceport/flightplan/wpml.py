"""DJI WPML export: a KMZ (ZIP) holding wpmz/template.kml and wpmz/waylines.wpml.

template.kml is the editable "waypoint" template (DJI Pilot 2, FlightHub 2, DJI Fly
waypoints); waylines.wpml is what the aircraft executes. Both carry the same waypoints:
WGS84 positions, heights relative to the take-off point, a fixed heading and gimbal
pitch per waypoint, straight lines with a stop at each waypoint, and a photo there.
Element names follow DJI's Cloud API WPML reference (namespace wpmz/1.0.2).
"""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET
import zipfile

import numpy as np

from spaceport.flightplan import estimates
from spaceport.flightplan.cameras import normalized
from spaceport.flightplan.geodesy import LocalFrame
from spaceport.flightplan.models import FlightPlan, Waypoint

KML = "http://www.opengis.net/kml/2.2"
WPML = "http://www.dji.com/wpmz/1.0.2"
TURN_MODE = "toPointAndStopWithDiscontinuityCurvature"  # straight lines, stop at each waypoint (photo there)

# (droneEnumValue, droneSubEnumValue, payloadEnumValue or None) by camera; see docs/flightplan.md for how sure each is.
DRONE_ENUMS = {"mavic-3-enterprise": (77, 0, 66), "mini-4-pro": (68, 0, None)}


def element(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    """Append <wpml:tag> (or a KML tag when `tag` starts with a capital) with optional text."""
    namespace = KML if tag[0].isupper() or tag == "coordinates" else WPML
    child = ET.SubElement(parent, f"{{{namespace}}}{tag}")
    if text is not None:
        child.text = str(text)
    return child


def number(value: float) -> str:
    """Metres, seconds, degrees: up to 3 decimals, no trailing zeros."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def mission_config(document: ET.Element, plan: FlightPlan) -> None:
    """<wpml:missionConfig>: fly safely to the first point, go home at the end and when the link is lost."""
    config = element(document, "missionConfig")
    element(config, "flyToWaylineMode", "safely")
    element(config, "finishAction", "goHome")
    element(config, "exitOnRCLost", "executeLostAction")
    element(config, "executeRCLostAction", "goBack")
    element(config, "takeOffSecurityHeight", 20)
    element(config, "globalTransitionalSpeed", number(plan.summary.speed_m_s))
    camera = plan.request.camera
    enums = DRONE_ENUMS.get(normalized(camera)) if isinstance(camera, str) else None
    if enums:
        drone = element(config, "droneInfo")
        element(drone, "droneEnumValue", enums[0])
        element(drone, "droneSubEnumValue", enums[1])
        if enums[2] is not None:
            payload = element(config, "payloadInfo")
            element(payload, "payloadEnumValue", enums[2])
            element(payload, "payloadPositionIndex", 0)


def heading_param(parent: ET.Element, waypoint: Waypoint) -> None:
    """The waypoint's heading, turned smoothly from the previous one; WPML wants -180..180 degrees."""
    heading = (waypoint.heading_deg + 180) % 360 - 180
    param = element(parent, "waypointHeadingParam")
    element(param, "waypointHeadingMode", "smoothTransition")
    element(param, "waypointHeadingAngle", number(heading))
    element(param, "waypointPoiPoint", "0.000000,0.000000,0.000000")
    element(param, "waypointHeadingAngleEnable", 1)
    element(param, "waypointHeadingPathMode", "followBadArc")


def action_group(parent: ET.Element, index: int, waypoint: Waypoint) -> None:
    """At waypoint `index`: set the gimbal pitch, then take a photo (when the waypoint has one)."""
    group = element(parent, "actionGroup")
    element(group, "actionGroupId", index)
    element(group, "actionGroupStartIndex", index)
    element(group, "actionGroupEndIndex", index)
    element(group, "actionGroupMode", "sequence")
    element(element(group, "actionTrigger"), "actionTriggerType", "reachPoint")
    gimbal = element(group, "action")
    element(gimbal, "actionId", 0)
    element(gimbal, "actionActuatorFunc", "gimbalRotate")
    params = element(gimbal, "actionActuatorFuncParam")
    for tag, value in [("gimbalHeadingYawBase", "aircraft"), ("gimbalRotateMode", "absoluteAngle"),
                       ("gimbalPitchRotateEnable", 1), ("gimbalPitchRotateAngle", number(waypoint.gimbal_pitch_deg)),
                       ("gimbalRollRotateEnable", 0), ("gimbalRollRotateAngle", 0), ("gimbalYawRotateEnable", 0),
                       ("gimbalYawRotateAngle", 0), ("gimbalRotateTimeEnable", 0), ("gimbalRotateTime", 0),
                       ("payloadPositionIndex", 0)]:
        element(params, tag, value)
    if waypoint.photo:
        photo = element(group, "action")
        element(photo, "actionId", 1)
        element(photo, "actionActuatorFunc", "takePhoto")
        element(element(photo, "actionActuatorFuncParam"), "payloadPositionIndex", 0)


def placemark(folder: ET.Element, index: int, waypoint: Waypoint, speed: float, template: bool) -> None:
    """One waypoint: position, height, speed, heading, turn mode, gimbal and photo actions."""
    mark = element(folder, "Placemark")
    element(element(mark, "Point"), "coordinates", f"{waypoint.longitude:.9f},{waypoint.latitude:.9f}")
    element(mark, "index", index)
    if template:
        element(mark, "ellipsoidHeight", number(waypoint.altitude_m))
        element(mark, "height", number(waypoint.altitude_m))
        element(mark, "useGlobalHeight", 0)
        element(mark, "useGlobalSpeed", 1)
        element(mark, "useGlobalHeadingParam", 0)
        element(mark, "useGlobalTurnParam", 1)
        element(mark, "gimbalPitchAngle", number(waypoint.gimbal_pitch_deg))
    else:
        element(mark, "executeHeight", number(waypoint.altitude_m))
        element(mark, "waypointSpeed", number(speed))
    heading_param(mark, waypoint)
    if not template:
        turn = element(mark, "waypointTurnParam")
        element(turn, "waypointTurnMode", TURN_MODE)
        element(turn, "waypointTurnDampingDist", 0)
    element(mark, "useStraightLine", 1)
    action_group(mark, index, waypoint)


def document(plan: FlightPlan) -> tuple[ET.Element, ET.Element]:
    """<kml><Document> with both namespaces."""
    ET.register_namespace("", KML)
    ET.register_namespace("wpml", WPML)
    root = ET.Element(f"{{{KML}}}kml")
    return root, element(root, "Document")


def template_kml(plan: FlightPlan, waypoints: list[Waypoint], now_ms: int) -> bytes:
    """wpmz/template.kml: a "waypoint" template holding every waypoint."""
    root, doc = document(plan)
    element(doc, "author", "Spaceport")
    element(doc, "createTime", now_ms)
    element(doc, "updateTime", now_ms)
    mission_config(doc, plan)
    folder = element(doc, "Folder")
    element(folder, "templateType", "waypoint")
    element(folder, "templateId", 0)
    system = element(folder, "waylineCoordinateSysParam")
    element(system, "coordinateMode", "WGS84")
    element(system, "heightMode", "relativeToStartPoint")
    element(folder, "autoFlightSpeed", number(plan.summary.speed_m_s))
    element(folder, "globalHeight", number(plan.summary.altitude_m))
    element(folder, "caliFlightEnable", 0)
    element(folder, "gimbalPitchMode", "usePointSetting")
    element(element(folder, "globalWaypointHeadingParam"), "waypointHeadingMode", "followWayline")
    element(folder, "globalWaypointTurnMode", TURN_MODE)
    element(folder, "globalUseStraightLine", 1)
    for index, waypoint in enumerate(waypoints):
        placemark(folder, index, waypoint, plan.summary.speed_m_s, template=True)
    return serialize(root)


def waylines_wpml(plan: FlightPlan, waypoints: list[Waypoint], distance_m: float) -> bytes:
    """wpmz/waylines.wpml: the executable wayline (one Folder) with distance and duration."""
    root, doc = document(plan)
    mission_config(doc, plan)
    folder = element(doc, "Folder")
    element(folder, "templateId", 0)
    element(folder, "executeHeightMode", "relativeToStartPoint")
    element(folder, "waylineId", 0)
    element(folder, "distance", number(distance_m))
    element(folder, "duration", number(distance_m / plan.summary.speed_m_s))
    element(folder, "autoFlightSpeed", number(plan.summary.speed_m_s))
    for index, waypoint in enumerate(waypoints):
        placemark(folder, index, waypoint, plan.summary.speed_m_s, template=False)
    return serialize(root)


def serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def wpml_kmz(plan: FlightPlan, waypoints: list[Waypoint]) -> bytes:
    """The KMZ bytes for one mission: wpmz/template.kml and wpmz/waylines.wpml."""
    frame = LocalFrame(waypoints[0].latitude, waypoints[0].longitude)
    east_north = frame.to_local([w.latitude for w in waypoints], [w.longitude for w in waypoints])
    distance = estimates.route_length_m(np.column_stack([east_north, [w.altitude_m for w in waypoints]]))
    now_ms = int(time.time() * 1000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as kmz:
        kmz.writestr("wpmz/template.kml", template_kml(plan, waypoints, now_ms))
        kmz.writestr("wpmz/waylines.wpml", waylines_wpml(plan, waypoints, distance))
    return buffer.getvalue()
