"""The API in process (no executor): authorization matrix and clear 4xx errors for bad input."""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient

from spaceport.api import create_app
from spaceport.config import ServiceSettings
from spaceport.jobs.models import Job
from spaceport.jobs.store import create_user


@pytest.fixture
def client(tmp_path):
    app = create_app(ServiceSettings(data_dir=tmp_path / "data", max_upload_bytes=200_000), run_jobs=False)
    with app.state.sessions() as session:
        _, alice = create_user(session, "alice")
        _, bob = create_user(session, "bob")
    with TestClient(app) as test_client:
        test_client.tokens = {"alice": alice, "bob": bob}
        test_client.app_state = app.state
        yield test_client


def as_user(client, name):
    return {"Authorization": f"Bearer {client.tokens[name]}"}


def photo_files(make_photo, tmp_path, count=3):
    return [("files", (f"{i}.jpg", make_photo(tmp_path / f"{i}.jpg", seed=i).read_bytes(), "image/jpeg")) for i in range(count)]


@pytest.fixture
def alice_job(client, make_photo, tmp_path):
    response = client.post("/api/v1/jobs", files=photo_files(make_photo, tmp_path), headers=as_user(client, "alice"),
                           data={"job": json.dumps({"name": "alice's"})})
    assert response.status_code == 201, response.text
    job = response.json()
    with client.app_state.sessions() as session:
        record = session.get(Job, job["id"])
        record.status = "completed"
        session.commit()
    return job


def endpoints(job_id: str, project_id: str) -> list[tuple[str, str, dict]]:
    return [
        ("GET", f"/api/v1/jobs/{job_id}", {}),
        ("POST", f"/api/v1/jobs/{job_id}/stop", {}),
        ("POST", f"/api/v1/jobs/{job_id}/restart", {"json": {}}),
        ("GET", f"/api/v1/jobs/{job_id}/log", {}),
        ("GET", f"/api/v1/jobs/{job_id}/events", {}),
        ("GET", f"/api/v1/jobs/{job_id}/files/job.log", {}),
        ("DELETE", f"/api/v1/jobs/{job_id}", {}),
        ("GET", f"/api/v1/projects/{project_id}", {}),
        ("PATCH", f"/api/v1/projects/{project_id}", {"json": {"name": "mine now"}}),
        ("DELETE", f"/api/v1/projects/{project_id}", {}),
        ("POST", "/stop-job", {"json": {"jobId": job_id}}),
    ]


def test_other_users_ids_answer_404_and_no_token_401(client, alice_job):
    for method, path, kwargs in endpoints(alice_job["id"], alice_job["project_id"]):
        assert client.request(method, path, headers=as_user(client, "bob"), **kwargs).status_code == 404, (method, path)
        assert client.request(method, path, **kwargs).status_code == 401, (method, path)
    assert client.get("/api/v1/jobs", headers=as_user(client, "bob")).json()["total"] == 0
    assert client.get("/api/v1/projects", headers=as_user(client, "bob")).json() == []
    for path in ("/api/v1/jobs", "/api/v1/projects"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get(f"/api/v1/jobs/{alice_job['id']}", headers=as_user(client, "alice")).status_code == 200


def test_open_endpoints(client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    info = client.get("/api/v1/info").json()
    assert info["queue_length"] == 0 and info["gpu"] is False
    options = client.get("/api/v1/options").json()
    mapper = options["$defs"]["SfmOptions"]["properties"]["mapper"]
    assert mapper["default"] == "incremental" and mapper["enum"] == ["incremental", "global"] and mapper["description"]
    assert options["$defs"]["SfmOptions"]["properties"]["min_registered_fraction"]["maximum"] == 1


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        ({"source": "s3://bucket/p.zip", "options": {"sfm": {"mapper": "sideways"}}}, 422, "options.sfm.mapper"),
        ({"source": "s3://bucket/p.zip", "options": {"sfm": {"min_registered_fraction": 2}}}, 422, "min_registered_fraction"),
        ({"source": "s3://bucket/p.zip", "options": {"sfm": {"colour": "red"}}}, 422, "colour"),
        ({"source": "s3://bucket/p.zip", "email": "not-an-address"}, 422, "email"),
        ({"source": "http://169.254.169.254/latest/"}, 422, "source"),
        ({"source": "ftp://example.com/p.zip"}, 422, "source"),
        ({"source": "s3://bucket/p.zip", "webhook_url": "http://127.0.0.1:9/hook"}, 422, "webhook_url"),
        ({"source": "s3://bucket/p.zip", "project_id": "nope"}, 404, "project_id"),
    ],
)
def test_bad_job_requests_name_the_field(client, body, status, names):
    response = client.post("/api/v1/jobs", json=body, headers=as_user(client, "alice"))
    assert response.status_code == status, response.text
    assert names in response.json()["detail"]


def test_bad_uploads(client, make_photo, tmp_path):
    headers = as_user(client, "alice")
    wrong = client.post("/api/v1/jobs", files=[("files", ("notes.txt", b"hello", "text/plain"))], headers=headers)
    assert wrong.status_code == 415 and "notes.txt" in wrong.json()["detail"]
    big = client.post("/api/v1/jobs", files=[("files", ("big.zip", io.BytesIO(bytes(300_000)), "application/zip"))], headers=headers)
    assert big.status_code == 413 and "max_upload_bytes" in big.json()["detail"]
    none = client.post("/api/v1/jobs", files={"job": (None, "{}")}, headers=headers)
    assert none.status_code == 422 and "files" in none.json()["detail"]
    assert not any((tmp_path / "data" / "jobs").glob("*/upload/*")) if (tmp_path / "data" / "jobs").exists() else True


def test_restart_rules_and_unknown_stage(client, alice_job):
    headers = as_user(client, "alice")
    path = f"/api/v1/jobs/{alice_job['id']}"
    bad = client.post(f"{path}/restart", json={"from_stage": "paint"}, headers=headers)
    assert bad.status_code == 422 and "from_stage" in bad.json()["detail"]
    assert client.post(f"{path}/restart", json={"from_stage": "sfm"}, headers=headers).json()["status"] == "queued"
    running = client.post(f"{path}/restart", json={}, headers=headers)
    assert running.status_code == 409 and "stop it before restarting" in running.json()["detail"]
    assert client.delete(path, headers=headers).status_code == 409
    assert client.get("/api/v1/jobs?status=sleeping", headers=headers).status_code == 422


def test_projects_and_compat_endpoints(client):
    headers = as_user(client, "alice")
    project = client.post("/api/v1/projects", json={"name": "Pier"}, headers=headers).json()
    assert client.patch(f"/api/v1/projects/{project['id']}", json={"name": "Pier 2"}, headers=headers).json()["name"] == "Pier 2"
    started = client.post("/start-job", json={"s3Url": "s3://bucket/flight.zip", "email": "a@example.com", "pipelineStep": "sfm"}, headers=headers)
    assert started.status_code == 201 and started.json()["status"] == "queued"
    job_id = started.json()["jobId"]
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()["status"] == "queued"
    assert client.post("/stop-job", json={"jobId": job_id}, headers=headers).json()["status"] == "canceled"
    later = client.post("/start-job", json={"s3Url": "s3://bucket/flight.zip", "pipelineStep": "3dgs"}, headers=headers)
    assert later.status_code == 422 and "pipelineStep" in later.json()["detail"]
    assert client.delete(f"/api/v1/projects/{project['id']}", headers=headers).status_code == 204
    listed = client.get("/api/v1/jobs?status=canceled", headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == job_id
