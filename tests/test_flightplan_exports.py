"""Exports parse in independent readers (csv, xml.etree, zipfile, json); coordinates round-trip to 1e-7 degrees."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest

from spaceport.flightplan import GridOptions, OrbitOptions, export, plan_grid, plan_orbit, write

LITCHI_HEADER = (
    "latitude,longitude,altitude(m),heading(deg),curvesize(m),rotationdir,gimbalmode,gimbalpitchangle,"
    "actiontype1,actionparam1,actiontype2,actionparam2,actiontype3,actionparam3,actiontype4,actionparam4,"
    "actiontype5,actionparam5,actiontype6,actionparam6,actiontype7,actionparam7,actiontype8,actionparam8,"
    "actiontype9,actionparam9,actiontype10,actionparam10,actiontype11,actionparam11,actiontype12,actionparam12,"
    "actiontype13,actionparam13,actiontype14,actionparam14,actiontype15,actionparam15,altitudemode,speed(m/s),"
    "poi_latitude,poi_longitude,poi_altitude(m),poi_altitudemode,photo_timeinterval,photo_distinterval"
)
KML = "{http://www.opengis.net/kml/2.2}"
WPML = "{http://www.dji.com/wpmz/1.0.2}"
AREA = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
    [[8.540, 47.370], [8.5445, 47.3702], [8.5441, 47.3731], [8.5395, 47.3728], [8.540, 47.370]]]}}


@pytest.fixture(scope="module")
def grid():
    return plan_grid(GridOptions(polygon=AREA, altitude_m=90, camera="mavic-3-enterprise", double_grid=True))


@pytest.fixture(scope="module")
def orbit():
    return plan_orbit(OrbitOptions(latitude=47.37, longitude=8.54, radius_m=35, altitude_m=30, target_altitude_m=5))


def assert_same_positions(pairs, waypoints):
    """`pairs` of (lat, lon, altitude) read back match the waypoints to 1e-7 degrees and 1 cm."""
    assert len(pairs) == len(waypoints)
    for (lat, lon, alt), w in zip(pairs, waypoints):
        assert abs(lat - w.latitude) < 1e-7 and abs(lon - w.longitude) < 1e-7 and abs(alt - w.altitude_m) < 0.01


def test_litchi_csv_has_exactly_litchis_header_and_splits_at_99(grid):
    files = export(grid, "litchi")
    assert len(files) == grid.summary.missions > 1
    read_back = []
    for name, content in files.items():
        text = content.decode()
        assert text.splitlines()[0] == LITCHI_HEADER
        rows = list(csv.DictReader(io.StringIO(text)))
        assert 0 < len(rows) <= 99
        for row in rows:
            assert len(row) == 46 and None not in row
            assert row["actiontype1"] in ("1", "-1") and row["altitudemode"] == "0"
            assert 0 <= float(row["heading(deg)"]) < 360 and -90 <= float(row["gimbalpitchangle"]) <= 0
        read_back += rows
    assert_same_positions([(float(r["latitude"]), float(r["longitude"]), float(r["altitude(m)"])) for r in read_back],
                          grid.waypoints)
    assert [r["actiontype1"] == "1" for r in read_back] == [w.photo for w in grid.waypoints]
    assert [float(r["gimbalpitchangle"]) for r in read_back] == pytest.approx([w.gimbal_pitch_deg for w in grid.waypoints], abs=0.01)


def test_litchi_orbit_carries_the_point_of_interest(orbit):
    rows = list(csv.DictReader(io.StringIO(export(orbit, "litchi")["mission.csv"].decode())))
    assert {(float(r["poi_latitude"]), float(r["poi_longitude"]), float(r["poi_altitude(m)"])) for r in rows} == {(47.37, 8.54, 5.0)}
    assert [float(r["heading(deg)"]) for r in rows] == pytest.approx([w.heading_deg for w in orbit.waypoints], abs=0.01)


def test_kml_parses_with_the_area_route_and_waypoints(grid):
    root = ET.fromstring(export(grid, "kml")["mission.kml"])
    assert root.tag == KML + "kml"
    folders = root.findall(f"{KML}Document/{KML}Folder")
    assert len(folders) == grid.summary.missions
    points = []
    for folder in folders:
        assert folder.find(f"{KML}Placemark/{KML}LineString/{KML}coordinates") is not None
        for mark in folder.findall(f"{KML}Placemark[{KML}Point]"):
            lon, lat, alt = map(float, mark.find(f"{KML}Point/{KML}coordinates").text.split(","))
            points.append((lat, lon, alt))
    assert_same_positions(points, grid.waypoints)
    ring = root.find(f"{KML}Document/{KML}Placemark/{KML}Polygon/{KML}outerBoundaryIs/{KML}LinearRing/{KML}coordinates")
    assert len(ring.text.split()) == 5


def test_geojson_parses_and_round_trips(grid):
    data = json.loads(export(grid, "geojson")["mission.geojson"])
    assert data["type"] == "FeatureCollection"
    roles = [f["properties"]["role"] for f in data["features"]]
    assert roles.count("area") == 1 and roles.count("route") == grid.summary.missions
    points = [f for f in data["features"] if f["properties"]["role"] == "waypoint"]
    assert_same_positions([(p["geometry"]["coordinates"][1], p["geometry"]["coordinates"][0],
                            p["geometry"]["coordinates"][2]) for p in points], grid.waypoints)
    assert data["properties"]["photos"] == grid.summary.photos


def read_kmz(content: bytes) -> tuple[ET.Element, ET.Element]:
    with zipfile.ZipFile(io.BytesIO(content)) as kmz:
        assert kmz.testzip() is None
        assert sorted(kmz.namelist()) == ["wpmz/template.kml", "wpmz/waylines.wpml"]
        return ET.fromstring(kmz.read("wpmz/template.kml")), ET.fromstring(kmz.read("wpmz/waylines.wpml"))


def test_wpml_kmz_holds_template_and_waylines_with_the_expected_elements(grid):
    files = export(grid, "wpml")
    assert len(files) == grid.summary.missions and all(name.endswith(".kmz") for name in files)
    points, photos = [], 0
    for content in files.values():
        template, waylines = read_kmz(content)
        for root in (template, waylines):
            config = root.find(f"{KML}Document/{WPML}missionConfig")
            assert config.find(f"{WPML}flyToWaylineMode").text == "safely"
            assert config.find(f"{WPML}finishAction").text == "goHome"
            assert config.find(f"{WPML}droneInfo/{WPML}droneEnumValue").text == "77"
        folder = template.find(f"{KML}Document/{KML}Folder")
        assert folder.find(f"{WPML}templateType").text == "waypoint"
        assert folder.find(f"{WPML}waylineCoordinateSysParam/{WPML}coordinateMode").text == "WGS84"
        assert folder.find(f"{WPML}waylineCoordinateSysParam/{WPML}heightMode").text == "relativeToStartPoint"
        wayline = waylines.find(f"{KML}Document/{KML}Folder")
        assert wayline.find(f"{WPML}executeHeightMode").text == "relativeToStartPoint"
        assert float(wayline.find(f"{WPML}distance").text) > 0
        marks = wayline.findall(f"{KML}Placemark")
        assert len(marks) == len(folder.findall(f"{KML}Placemark"))
        assert [int(m.find(f"{WPML}index").text) for m in marks] == list(range(len(marks)))
        for mark in marks:
            lon, lat = map(float, mark.find(f"{KML}Point/{KML}coordinates").text.split(","))
            points.append((lat, lon, float(mark.find(f"{WPML}executeHeight").text)))
            heading = float(mark.find(f"{WPML}waypointHeadingParam/{WPML}waypointHeadingAngle").text)
            assert -180 <= heading <= 180
            functions = [a.text for a in mark.iter(f"{WPML}actionActuatorFunc")]
            photos += functions.count("takePhoto")
            assert "gimbalRotate" in functions
    assert_same_positions(points, grid.waypoints)
    assert photos == grid.summary.photos


def test_write_numbers_split_missions(tmp_path, grid, orbit):
    written = write(grid, "litchi", tmp_path / "site.csv")
    assert [p.name for p in written] == [f"site-{i}.csv" for i in range(1, grid.summary.missions + 1)]
    assert write(orbit, "wpml", tmp_path / "tower.kmz") == [tmp_path / "tower.kmz"]
    read_kmz((tmp_path / "tower.kmz").read_bytes())
