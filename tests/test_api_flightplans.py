"""Flight plans over HTTP: create, store per project, fetch, export; bad requests get 422."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from spaceport.api.database import connect
from spaceport.api.flightplans import router

SQUARE = {"type": "Polygon", "coordinates": [[[8.0, 47.0], [8.004, 47.0], [8.004, 47.003], [8.0, 47.003], [8.0, 47.0]]]}


@pytest.fixture()
def client(tmp_path):
    app = FastAPI()
    app.include_router(router)
    app.state.sessions = connect(f"sqlite:///{tmp_path / 'api.db'}")
    with TestClient(app) as client:
        yield client


def create(client, project="site-a", **mission):
    return client.post("/api/v1/flightplans", json={"project_id": project, "mission": mission})


def test_grid_plan_is_stored_per_project_and_fetched(client):
    response = create(client, kind="grid", polygon=SQUARE, altitude_m=100)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["project_id"] == "site-a" and body["plan"]["summary"]["gsd_cm"] == pytest.approx(2.741)
    fetched = client.get(f"/api/v1/flightplans/{body['id']}").json()
    assert fetched["plan"]["waypoints"] == body["plan"]["waypoints"]
    create(client, project="site-b", kind="orbit", latitude=47, longitude=8, radius_m=30, altitude_m=25)
    listed = client.get("/api/v1/flightplans", params={"project_id": "site-a"}).json()
    assert [item["id"] for item in listed] == [body["id"]]


def test_exports_single_mission_file_zip_when_split_and_one_mission_on_request(client):
    orbit = create(client, kind="orbit", latitude=47, longitude=8, radius_m=30, altitude_m=25).json()
    response = client.get(f"/api/v1/flightplans/{orbit['id']}/export", params={"format": "litchi"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == orbit["plan"]["summary"]["photos"]
    grid = create(client, kind="grid", polygon=SQUARE, altitude_m=100).json()
    missions = grid["plan"]["summary"]["missions"]
    assert missions > 1
    archive = client.get(f"/api/v1/flightplans/{grid['id']}/export", params={"format": "wpml"})
    with zipfile.ZipFile(io.BytesIO(archive.content)) as outer:
        assert len(outer.namelist()) == missions and all(name.endswith(".kmz") for name in outer.namelist())
    second = client.get(f"/api/v1/flightplans/{grid['id']}/export", params={"format": "wpml", "mission": 2})
    with zipfile.ZipFile(io.BytesIO(second.content)) as kmz:
        assert sorted(kmz.namelist()) == ["wpmz/template.kml", "wpmz/waylines.wpml"]
    assert client.get(f"/api/v1/flightplans/{grid['id']}/export", params={"format": "kml"}).text.startswith("<?xml")


@pytest.mark.parametrize(
    "mission,expected",
    [
        ({"kind": "grid", "polygon": SQUARE, "altitude_m": 150}, "legal limit"),
        ({"kind": "grid", "polygon": SQUARE, "altitude_m": 80, "front_overlap_percent": 100}, "less than 100"),
        ({"kind": "grid", "polygon": SQUARE, "altitude_m": 80, "camera": "/etc/passwd.json"}, "not known"),
        ({"kind": "orbit", "latitude": 47, "longitude": 8, "radius_m": 30}, "either altitude_m"),
    ],
)
def test_bad_requests_get_422_with_the_reason(client, mission, expected):
    response = create(client, **mission)
    assert response.status_code == 422
    assert expected in response.text


def test_unknown_plan_and_format(client):
    assert client.get("/api/v1/flightplans/nope").status_code == 404
    plan = create(client, kind="orbit", latitude=47, longitude=8, radius_m=30, altitude_m=25).json()
    assert client.get(f"/api/v1/flightplans/{plan['id']}/export", params={"format": "shp"}).status_code == 422
    assert client.get(f"/api/v1/flightplans/{plan['id']}/export", params={"mission": 3}).status_code == 404
    assert create(client, project="../etc", kind="orbit", latitude=47, longitude=8, radius_m=30, altitude_m=25).status_code == 422
