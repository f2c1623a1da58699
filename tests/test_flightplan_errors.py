"""Bad input gives clear errors naming the field, the value and the limit; the CLI prints one line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from spaceport.cli import main
from spaceport.errors import InputError
from spaceport.flightplan import GridOptions, OrbitOptions, parse, plan_grid, plan_orbit

SQUARE = {"type": "Polygon", "coordinates": [[[8.0, 47.0], [8.003, 47.0], [8.003, 47.002], [8.0, 47.002], [8.0, 47.0]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[8.0, 47.0], [8.003, 47.002], [8.003, 47.0], [8.0, 47.002], [8.0, 47.0]]]}


def grid(**values):
    return plan_grid(parse(GridOptions, {"polygon": SQUARE, "altitude_m": 80, **values}))


@pytest.mark.parametrize(
    "values,expected",
    [
        ({"polygon": BOWTIE}, ["polygon is not valid", "Self-intersection"]),
        ({"front_overlap_percent": 0}, ["front_overlap_percent = 0", "greater than 0"]),
        ({"side_overlap_percent": 0}, ["side_overlap_percent = 0", "greater than 0"]),
        ({"front_overlap_percent": 100}, ["front_overlap_percent = 100", "less than 100"]),
        ({"side_overlap_percent": 120}, ["side_overlap_percent = 120", "less than 100"]),
        ({"altitude_m": 150}, ["altitude_m = 150.0 m", "legal limit of 120 m", "--allow-high-altitude"]),
        ({"altitude_m": None, "gsd_cm": 5}, ["altitude_m = 182", "legal limit"]),  # 5 cm/px needs 182 m
        ({"camera": "Phantom 9"}, ["camera 'Phantom 9' is not known", "phantom-4-pro"]),
        ({"altitude_m": 80, "gsd_cm": 2}, ["either altitude_m", "gsd_cm"]),
        ({"altitude_m": None}, ["either altitude_m", "gsd_cm"]),
        ({"speed_m_s": 12}, ["speed_m_s = 12", "8.0 m/s"]),  # 16 m photo spacing / 2 s
        ({"oblique_pitch_deg": -10}, ["oblique_pitch_deg = -10", "less than or equal to -30"]),
        ({"polygon": {"type": "Point", "coordinates": [8, 47]}}, ["'Point' is not a Polygon"]),
        ({"polygon": {"type": "Polygon", "coordinates": [[[47, 8], [47.1, 8], [147, 95], [47, 8]]]}}, ["latitude within ±90"]),
        ({"polygon": {"type": "Polygon", "coordinates": [[[8, 47], [8.5, 47], [8.5, 47.3], [8, 47]]]}}, ["km across"]),
    ],
)
def test_bad_grid_input_is_explained(values, expected):
    with pytest.raises(InputError) as error:
        grid(**values)
    for part in expected:
        assert part in str(error.value)


def test_high_altitude_is_allowed_with_the_override():
    assert grid(altitude_m=150, allow_high_altitude=True).summary.altitude_m == 150


@pytest.mark.parametrize(
    "values,expected",
    [
        ({"rings": 3, "ring_spacing_m": 20, "altitude_m": 90}, ["highest ring = 130.0 m", "legal limit"]),
        ({"radius_m": 0}, ["radius_m = 0", "greater than 0"]),
        ({"gsd_cm": 0.5, "altitude_m": None}, ["gsd_cm = 0.5", "radius_m = 40"]),
        ({"target_altitude_m": 100, "altitude_m": 20}, ["target_altitude_m = 100", "look up"]),
        ({"latitude": 95}, ["latitude = 95", "less than or equal to 90"]),
    ],
)
def test_bad_orbit_input_is_explained(values, expected):
    with pytest.raises(InputError) as error:
        plan_orbit(parse(OrbitOptions, {"latitude": 47, "longitude": 8, "radius_m": 40, "altitude_m": 30, **values}))
    for part in expected:
        assert part in str(error.value)


def test_cli_plans_a_grid_and_writes_the_export(tmp_path):
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": SQUARE}]}))
    result = CliRunner().invoke(main, ["plan", "grid", str(area), "--camera", "phantom-4-pro", "--altitude", "100",
                                       "--format", "kml", "-o", str(tmp_path / "site.kml")])
    assert result.exit_code == 0, result.output
    assert "GSD 2.741 cm/px" in result.output and "footprint 150.0 x 100.0 m" in result.output
    assert (tmp_path / "site.kml").read_text().startswith("<?xml")


def test_cli_plans_an_orbit_from_a_gsd(tmp_path):
    result = CliRunner().invoke(main, ["plan", "orbit", "--lat", "47", "--lon", "8", "--radius", "20", "--gsd", "1",
                                       "--step", "15", "--counterclockwise", "--format", "wpml", "-o", str(tmp_path / "o.kmz")])
    assert result.exit_code == 0, result.output
    assert "24 photos" in result.output and (tmp_path / "o.kmz").is_file()


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--altitude", "80", "--camera", "nope"], "camera 'nope' is not known"),
        (["--altitude", "80", "--front", "100"], "front_overlap_percent = 100.0"),
        (["--altitude", "200"], "legal limit"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, args, expected):
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps(SQUARE))
    result = CliRunner().invoke(main, ["plan", "grid", str(area), *args])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]


def test_cli_missing_polygon_file_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["plan", "grid", str(tmp_path / "nowhere.geojson"), "--altitude", "50"])
    assert result.exit_code == 1 and "nowhere.geojson" in result.output and "Traceback" not in result.output
