"""The service end to end over real HTTP: upload, follow, download, e-mail, webhook, stop,
restart from a stage, and a server killed while a job runs."""

from __future__ import annotations

import hmac
import json
import os
from email import message_from_bytes
from hashlib import sha256
from pathlib import Path

import httpx
import pytest

from datasets import zip_tree
from scenes import make_drone_scene
from service_helpers import Server, WebhookListener, follow_events, wait_for

pytestmark = pytest.mark.slow


class Mailbox:
    """A real SMTP server (aiosmtpd) on loopback keeping every message."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                mailbox.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        from service_helpers import free_port

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def mailbox():
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture
def server(tmp_path, mailbox):
    env = dict(
        os.environ,
        SPACEPORT_SMTP_HOST="127.0.0.1", SPACEPORT_SMTP_PORT=str(mailbox.port), SPACEPORT_SMTP_SECURITY="none",
        SPACEPORT_INGEST_ALLOW_PRIVATE_URLS="1", SPACEPORT_MIN_FREE_DISK_BYTES="0",
    )
    instance = Server(tmp_path / "data", env)
    (tmp_path / "data").mkdir()
    instance.token = instance.create_user("alice")
    instance.start()
    yield instance
    instance.stop()


TINY_TRAIN = {"iterations": 10, "resolution": 64, "max_gaussians": 2000}


def upload(server: Server, folder: Path, **spec) -> dict:
    spec.setdefault("options", {"train": TINY_TRAIN})
    files = [("files", (path.name, path.read_bytes(), "image/jpeg")) for path in sorted(folder.glob("*.JPG"))]
    response = httpx.post(
        f"{server.url}/api/v1/jobs", files=files, data={"job": json.dumps(spec)},
        headers={"Authorization": f"Bearer {server.token}"}, timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()


def api(server: Server, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{server.url}{path}", headers={"Authorization": f"Bearer {server.token}"}, timeout=30, **kwargs)


def test_upload_follow_download_with_email_and_webhook(server, mailbox, tmp_path):
    scene = make_drone_scene(tmp_path / "photos", rows=2, cols=3, seed=0)
    hook = WebhookListener(fail_first=1)
    job = upload(server, scene.folder, name="park survey", email="pilot@example.com",
                 webhook_url=hook.url, webhook_secret="s3cret")
    events = follow_events(f"{server.url}/api/v1/jobs/{job['id']}/events", server.token)
    assert events[-1]["status"] == "completed", events[-1]
    progress = [event["progress"] for event in events]
    assert progress == sorted(progress) and progress[-1] == 100.0
    assert "sfm" in {event["stage"] for event in events}

    shown = api(server, "GET", f"/api/v1/jobs/{job['id']}").json()
    report = httpx.get(shown["files"]["sfm-report.json"], headers={"Authorization": f"Bearer {server.token}"}).json()
    assert report["images_registered"] == 6
    ply = httpx.get(shown["files"]["scene.ply"], headers={"Authorization": f"Bearer {server.token}"})
    assert ply.status_code == 200 and ply.content.startswith(b"ply\n")
    scene = httpx.get(shown["files"]["scene.sog"], headers={"Authorization": f"Bearer {server.token}"})
    assert scene.status_code == 200
    (tmp_path / "scene.sog").write_bytes(scene.content)
    from spaceport.sog import read_sog

    decoded = read_sog(tmp_path / "scene.sog")
    assert len(decoded) == json.loads(
        httpx.get(shown["files"]["metrics.json"], headers={"Authorization": f"Bearer {server.token}"}).text)["gaussians"]

    wait_for(lambda: mailbox.messages and hook.received, timeout_s=30)
    mail = mailbox.messages[0]
    assert mail["To"] == "pilot@example.com" and "park survey" in mail["Subject"] and "completed" in mail["Subject"]
    body = mail.get_payload()
    assert "6/6 photos registered" in body and "PSNR" in body and f"/api/v1/jobs/{job['id']}" in body
    headers, raw = hook.received[0]
    assert hook.attempts == 2  # the first delivery failed and was retried
    expected = "sha256=" + hmac.new(b"s3cret", raw, sha256).hexdigest()
    assert headers["X-Spaceport-Signature"] == expected
    assert json.loads(raw)["status"] == "completed" and "webhook_secret" not in json.loads(raw)
    hook.close()


def test_stop_then_restart_from_a_stage_with_new_options(server, tmp_path):
    scene = make_drone_scene(tmp_path / "photos", rows=3, cols=4, seed=1)
    job = upload(server, scene.folder, name="to stop")
    path = f"/api/v1/jobs/{job['id']}"
    wait_for(lambda: api(server, "GET", path).json()["stage"] == "sfm", timeout_s=120, poll_s=0.1)
    assert api(server, "POST", f"{path}/stop").status_code == 200
    stopped = wait_for(lambda: (j := api(server, "GET", path).json())["status"] == "canceled" and j, timeout_s=15)
    assert stopped["finished_at"] is not None
    assert (server.data_dir / "jobs" / job["id"] / "images" / "manifest.json").is_file()
    assert api(server, "POST", f"{path}/stop").status_code == 409

    restarted = api(server, "POST", f"{path}/restart", json={"from_stage": "sfm", "options": {"sfm": {"mapper": "global"}, "train": TINY_TRAIN}})
    assert restarted.status_code == 200, restarted.text
    events = follow_events(f"{server.url}{path}/events", server.token)
    assert events[-1]["status"] == "completed", events[-1]
    report = json.loads((server.data_dir / "jobs" / job["id"] / "sfm" / "report.json").read_text())
    assert report["mapper"] == "global" and report["images_registered"] == 12
    assert "sfm" in api(server, "GET", f"{path}/log").text


def test_job_resumes_after_the_server_is_killed(server, tmp_path):
    scene = make_drone_scene(tmp_path / "photos", rows=3, cols=4, seed=2)
    job = upload(server, scene.folder, name="survives")
    path = f"/api/v1/jobs/{job['id']}"
    wait_for(lambda: api(server, "GET", path).json()["stage"] == "sfm", timeout_s=120, poll_s=0.1)
    server.kill()
    server.start()
    events = follow_events(f"{server.url}{path}/events", server.token)
    assert events[-1]["status"] == "completed", events[-1]
    assert api(server, "GET", path).json()["progress"] == 100.0


def test_a_crashed_job_fails_alone_and_the_cli_sees_it(server, tmp_path):
    import signal
    import sqlite3

    from service_helpers import spaceport_cli

    scene = make_drone_scene(tmp_path / "photos", rows=3, cols=4, seed=3)
    job = upload(server, scene.folder, name="crashes")
    path = f"/api/v1/jobs/{job['id']}"
    wait_for(lambda: api(server, "GET", path).json()["stage"] == "sfm", timeout_s=120, poll_s=0.1)
    with sqlite3.connect(server.data_dir / "spaceport.db") as db:
        (pid,) = db.execute("select pid from jobs where id = ?", (job["id"],)).fetchone()
    os.kill(pid, signal.SIGKILL)
    failed = wait_for(lambda: (j := api(server, "GET", path).json())["status"] == "failed" and j, timeout_s=15)
    assert "ended with code -9" in failed["error"]
    assert api(server, "GET", "/api/v1/health").status_code == 200
    listing = spaceport_cli("jobs", "list", env=server.env)
    assert job["id"] in listing and "failed" in listing
    shown = json.loads(spaceport_cli("jobs", "show", job["id"], env=server.env))
    assert shown["status"] == "failed" and "webhook_secret" not in shown
    import subprocess
    import sys

    refused = subprocess.run([sys.executable, "-m", "spaceport.cli", "jobs", "stop", job["id"]],
                             capture_output=True, text=True, env=server.env, timeout=60)
    assert refused.returncode == 1 and "already failed" in refused.stderr


def test_start_at_train_from_an_uploaded_colmap_dataset(server, colmap_dataset, tmp_path):
    archive = zip_tree(colmap_dataset, tmp_path / "dataset.zip", prefix="survey")
    spec = {"name": "made elsewhere", "start_stage": "train", "options": {"train": TINY_TRAIN}}
    response = httpx.post(
        f"{server.url}/api/v1/jobs", files=[("files", ("dataset.zip", archive.read_bytes(), "application/zip"))],
        data={"job": json.dumps(spec)}, headers={"Authorization": f"Bearer {server.token}"}, timeout=60,
    )
    assert response.status_code == 201, response.text
    job = response.json()
    events = follow_events(f"{server.url}/api/v1/jobs/{job['id']}/events", server.token)
    assert events[-1]["status"] == "completed", events[-1]
    log = api(server, "GET", f"/api/v1/jobs/{job['id']}/log").text
    assert "sfm: sfm started" in log and "train: train started" in log and "images started" not in log
    shown = api(server, "GET", f"/api/v1/jobs/{job['id']}").json()
    scene = httpx.get(shown["files"]["scene.sog"], headers={"Authorization": f"Bearer {server.token}"})
    (tmp_path / "scene.sog").write_bytes(scene.content)
    from spaceport.sog import read_sog

    metrics = httpx.get(shown["files"]["metrics.json"], headers={"Authorization": f"Bearer {server.token}"}).json()
    assert len(read_sog(tmp_path / "scene.sog")) == metrics["gaussians"]
