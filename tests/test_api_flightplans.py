"""Flight plans over HTTP: create, store per project, fetch, export; bad requests get 422."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from spaceport.api import create_app
from spaceport.config import ServiceSettings
from spaceport.jobs.store import create_user

SQUARE = {"type": "Polygon", "coordinates": [[[8.0, 47.0], [8.004, 47.0], [8.004, 47.003], [8.0, 47.003], [8.0, 47.0]]]}


@pytest.fixture()
def client(tmp_path):
    app = create_app(ServiceSettings(data_dir=tmp_path / "data"), run_jobs=False)
    with app.state.sessions() as session:
        _, token = create_user(session, "pilot")
        _, other = create_user(session, "other")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        client.projects = {}
        client.other_token = other
        yield client


def project_id(client, name: str) -> str:
    """The id of the test user's project called `name` (created on first use)."""
    if name not in client.projects:
        client.projects[name] = client.post("/api/v1/projects", json={"name": name}).json()["id"]
    return client.projects[name]


def create(client, project="site-a", **mission):
    return client.post("/api/v1/flightplans", json={"project_id": project_id(client, project), "mission": mission})


def test_grid_plan_is_stored_per_project_and_fetched(client):
    response = create(client, kind="grid", polygon=SQUARE, altitude_m=100)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["project_id"] == project_id(client, "site-a") and body["plan"]["summary"]["gsd_cm"] == pytest.approx(2.741)
    fetched = client.get(f"/api/v1/flightplans/{body['id']}").json()
    assert fetched["plan"]["waypoints"] == body["plan"]["waypoints"]
    create(client, project="site-b", kind="orbit", latitude=47, longitude=8, radius_m=30, altitude_m=25)
    listed = client.get("/api/v1/flightplans", params={"project_id": project_id(client, "site-a")}).json()
    assert [item["id"] for item in listed] == [body["id"]]
    other = {"Authorization": f"Bearer {client.other_token}"}
    assert client.get(f"/api/v1/flightplans/{body['id']}", headers=other).status_code == 404
    assert client.get(f"/api/v1/flightplans/{body['id']}/export", headers=other).status_code == 404
    assert client.get("/api/v1/flightplans", headers=other).json() == []
    assert client.get(f"/api/v1/flightplans/{body['id']}", headers={"Authorization": ""}).status_code == 401


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
    unknown = client.post("/api/v1/flightplans", json={"project_id": "../etc", "mission": {
        "kind": "orbit", "latitude": 47, "longitude": 8, "radius_m": 30, "altitude_m": 25}})
    assert unknown.status_code == 404 and "project_id" in unknown.json()["detail"]
