"""The API in process (no executor): authorization matrix and clear 4xx errors for bad input."""

from __future__ import annotations

import functools
import http.server
import io
import json
import threading
import time
import zipfile

import pytest
from fastapi.testclient import TestClient

from datasets import write_plain_ply, zip_tree
from sog_support import synthetic_splats
from spaceport.api import create_app
from spaceport.config import ServiceSettings
from spaceport.jobs.models import Job
from spaceport.jobs.store import create_user
from spaceport.sog import read_sog
from spaceport.splat.ply import write_ply

TINY_TRAIN = {"iterations": 10, "resolution": 64, "max_gaussians": 2000, "refine_start": 5, "refine_every": 5, "refine_stop": 8}


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
        ({"source": "s3://bucket/p.zip", "webhook_url": "s3://bucket/hook"}, 422, "webhook_url: 's3://bucket/hook' is not an http:// or https:// URL"),
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
    for step, stage in (("3dgs", "train"), ("compression", "compress")):
        later = client.post("/start-job", json={"s3Url": "s3://bucket/supplied.zip", "pipelineStep": step}, headers=headers)
        assert later.status_code == 201, later.text
        assert client.get(f"/api/v1/jobs/{later.json()['jobId']}", headers=headers).json()["start_stage"] == stage
        assert client.post("/stop-job", json={"jobId": later.json()["jobId"]}, headers=headers).status_code == 200
    unknown = client.post("/start-job", json={"s3Url": "s3://bucket/flight.zip", "pipelineStep": "mesh"}, headers=headers)
    assert unknown.status_code == 422 and "pipelineStep" in unknown.json()["detail"]
    assert client.delete(f"/api/v1/projects/{project['id']}", headers=headers).status_code == 204
    listed = client.get("/api/v1/jobs?status=canceled", headers=headers).json()
    assert listed["total"] == 3 and listed["items"][-1]["id"] == job_id


ONE_PHOTO = tuple(f"images/IMG_000{index}" for index in range(2, 7))  # keeps bad uploads under max_upload_bytes


def upload_one(client, path, spec: dict, user: str = "alice"):
    """POST /api/v1/jobs with the single file `path` and the job spec `spec`."""
    return client.post("/api/v1/jobs", files=[("files", (path.name, path.read_bytes(), "application/octet-stream"))],
                       data={"job": json.dumps(spec)}, headers=as_user(client, user))


@pytest.mark.parametrize(
    ("make", "spec", "status", "detail"),
    [
        (lambda d, t: zip_tree(d, t / "dataset.zip", skip=("sparse/", *ONE_PHOTO)), {"start_stage": "train"}, 422,
         "files: dataset.zip has no sparse/0/cameras.bin or cameras.txt"),
        (lambda d, t: zip_tree(d, t / "dataset.zip", skip=("sparse/0/images.bin", *ONE_PHOTO)), {"start_stage": "train"}, 422,
         "files: dataset.zip has no sparse/0/images.bin or images.txt"),
        (lambda d, t: write_plain_ply(t / "scene.ply"), {"start_stage": "compress"}, 422,
         "files: scene.ply: not a 3D Gaussian Splatting PLY, the vertex properties f_dc_0"),
        (lambda d, t: write_plain_ply(t / "scene.ply"), {"start_stage": "sfm"}, 422, "start_stage: 'scene.ply' is a PLY"),
        (lambda d, t: write_plain_ply(t / "scene.ply"), {}, 422, "start_stage: 'scene.ply' is a PLY"),
        (lambda d, t: d / "images" / "IMG_0001.jpg", {"start_stage": "train"}, 415,
         "files: 'IMG_0001.jpg' is not a ZIP of a COLMAP dataset"),
        (lambda d, t: zip_tree(d, t / "photos.zip", skip=("sparse/", *ONE_PHOTO)), {"start_stage": "compress"}, 422,
         "files: photos.zip holds 0 .ply files; it must hold exactly one 3DGS PLY"),
        (lambda d, t: zip_tree(d, t / "photos.zip", skip=("sparse/", *ONE_PHOTO)), {"start_stage": "paint"}, 422, "job: start_stage: Input should be"),
    ],
)
def test_bad_supplied_uploads_are_refused_naming_the_field(client, colmap_dataset, tmp_path, make, spec, status, detail):
    response = upload_one(client, make(colmap_dataset, tmp_path), spec)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert not list((tmp_path / "data" / "jobs").glob("*/upload")) if (tmp_path / "data" / "jobs").exists() else True


def test_a_url_job_can_start_at_a_later_stage_and_restart_only_from_there(client):
    headers = as_user(client, "alice")
    bad = client.post("/api/v1/jobs", json={"source": "s3://bucket/scene.ply", "start_stage": "paint"}, headers=headers)
    assert bad.status_code == 422 and "start_stage" in bad.json()["detail"]
    job = client.post("/api/v1/jobs", json={"source": "s3://bucket/dataset.zip", "start_stage": "train"}, headers=headers).json()
    assert job["start_stage"] == "train" and job["status"] == "queued"
    with client.app_state.sessions() as session:
        session.get(Job, job["id"]).status = "failed"
        session.commit()
    early = client.post(f"/api/v1/jobs/{job['id']}/restart", json={"from_stage": "sfm"}, headers=headers)
    assert early.status_code == 422 and "from_stage" in early.json()["detail"] and "train or compress" in early.json()["detail"]
    assert client.post(f"/api/v1/jobs/{job['id']}/restart", json={"from_stage": "train"}, headers=headers).status_code == 200


@pytest.fixture
def running_client(tmp_path, monkeypatch):
    """The API with its executor running real jobs; loopback URLs allowed (for a local file server)."""
    monkeypatch.setenv("SPACEPORT_INGEST_ALLOW_PRIVATE_URLS", "1")
    app = create_app(ServiceSettings(data_dir=tmp_path / "data", min_free_disk_bytes=0))
    with app.state.sessions() as session:
        _, alice = create_user(session, "alice")
    with TestClient(app) as test_client:
        test_client.tokens = {"alice": alice}
        yield test_client


def finished(client, job_id: str, timeout_s: float = 300) -> dict:
    """The job's record once it reaches a final status."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=as_user(client, "alice")).json()
        if job["status"] in ("completed", "failed", "canceled"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


def decoded_scene(client, job: dict, tmp_path):
    """The job's scene.sog, downloaded through the API and decoded."""
    response = client.get(job["files"]["scene.sog"], headers=as_user(client, "alice"))
    assert response.status_code == 200
    (tmp_path / "downloaded.sog").write_bytes(response.content)
    return read_sog(tmp_path / "downloaded.sog")


def test_job_starts_at_train_from_an_uploaded_colmap_zip(running_client, colmap_dataset, tmp_path):
    archive = zip_tree(colmap_dataset, tmp_path / "dataset.zip", prefix="survey")
    created = upload_one(running_client, archive, {"start_stage": "train", "options": {"train": TINY_TRAIN}})
    assert created.status_code == 201, created.text
    job = finished(running_client, created.json()["id"])
    assert job["status"] == "completed", job["error"]
    assert job["start_stage"] == "train" and "sfm-report.json" not in job["files"] and "scene.ply" in job["files"]
    metrics = running_client.get(job["files"]["metrics.json"], headers=as_user(running_client, "alice")).json()
    assert len(decoded_scene(running_client, job, tmp_path)) == metrics["gaussians"]


def test_job_starts_at_compress_from_an_uploaded_ply(running_client, tmp_path):
    write_ply(tmp_path / "scene.ply", synthetic_splats(1200, bands=1, seed=4))
    created = upload_one(running_client, tmp_path / "scene.ply", {"start_stage": "compress"})
    assert created.status_code == 201, created.text
    job = finished(running_client, created.json()["id"])
    assert job["status"] == "completed", job["error"]
    assert len(decoded_scene(running_client, job, tmp_path)) == 1200


def test_compat_compression_step_starts_from_the_urls_ply(running_client, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    write_ply(served / "scene.ply", synthetic_splats(900, bands=0, seed=5))
    with zipfile.ZipFile(served / "scene.zip", "w") as zf:
        zf.write(served / "scene.ply", "export/scene.ply")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/scene.zip"
        started = running_client.post("/start-job", json={"s3Url": url, "pipelineStep": "compression"},
                                      headers=as_user(running_client, "alice"))
        assert started.status_code == 201, started.text
        job = finished(running_client, started.json()["jobId"])
    finally:
        server.shutdown()
    assert job["status"] == "completed", job["error"]
    assert job["start_stage"] == "compress" and len(decoded_scene(running_client, job, tmp_path)) == 900
