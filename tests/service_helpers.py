"""A real Spaceport server in a subprocess on a loopback port, plus SMTP and webhook listeners."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spaceport_cli(*args: str, env: dict) -> str:
    result = subprocess.run([sys.executable, "-m", "spaceport.cli", *args], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


class Server:
    """`spaceport serve` on 127.0.0.1; `start()`, `kill()`, and `url`."""

    def __init__(self, data_dir: Path, env: dict) -> None:
        self.data_dir, self.port = data_dir, free_port()
        self.env = dict(env, SPACEPORT_DATA_DIR=str(data_dir), SPACEPORT_PORT=str(self.port))
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def create_user(self, name: str) -> str:
        return spaceport_cli("users", "create", name, env=self.env).strip().splitlines()[-1]

    def start(self) -> None:
        log = open(self.data_dir / f"server-{time.time():.0f}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spaceport.cli", "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """SIGKILL the server alone (its job processes live in their own groups)."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def follow_events(url: str, token: str, timeout_s: float = 240) -> list[dict]:
    """Read the job's server-sent events until the stream ends; returns every event's data."""
    events = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", url, headers=headers, timeout=timeout_s) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def wait_for(predicate, timeout_s: float = 120, poll_s: float = 0.3):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError("condition not met in time")


class WebhookListener:
    """An HTTP listener on loopback recording POSTs; answers 500 to the first `fail_first` ones.

    With `redirect=(status, location)` it answers every request with that redirect instead
    (requests of any method are recorded).
    """

    def __init__(self, fail_first: int = 1, redirect: tuple[int, str] | None = None) -> None:
        self.received: list[tuple[dict, bytes]] = []
        self.attempts = 0
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                listener.attempts += 1
                if redirect:
                    listener.received.append((dict(self.headers), body))
                    self.send_response(redirect[0])
                    self.send_header("Location", redirect[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if listener.attempts <= fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                listener.received.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
