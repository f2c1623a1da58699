"""API load benchmark: concurrent clients polling job status and listing jobs while jobs run.

Starts `spaceport serve` on a loopback port with a fresh data folder, creates a user,
queues jobs on the built-in example photos so one is always running, then runs CLIENTS
asyncio clients for DURATION seconds, each alternating GET /api/v1/jobs/{id} and
GET /api/v1/jobs every INTERVAL seconds (a polling UI; 0 = back to back, a stress test
where latency is mostly queueing). Prints requests per second, p50/p95/p99 latency and the error count.

    .venv/bin/python bench/api.py [--clients 50] [--seconds 60] [--interval 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from service_helpers import Server  # noqa: E402

from spaceport.cli import EXAMPLE_PHOTOS  # noqa: E402


def queue_jobs(server: Server, count: int) -> list[str]:
    headers = {"Authorization": f"Bearer {server.token}"}
    ids = []
    for index in range(count):
        files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in sorted(EXAMPLE_PHOTOS.glob("*.JPG"))]
        response = httpx.post(f"{server.url}/api/v1/jobs", files=files, headers=headers, timeout=60,
                              data={"job": f'{{"name": "load {index}"}}'})
        response.raise_for_status()
        ids.append(response.json()["id"])
    return ids


async def client(
    server: Server, job_id: str, until: float, interval: float, latencies: list[float], errors: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    paths = [f"/api/v1/jobs/{job_id}", "/api/v1/jobs?limit=20"]
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as http:
        turn = 0
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                response = await http.get(paths[turn % 2])
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
            except httpx.HTTPError as error:
                errors.append(type(error).__name__)
            latencies.append(time.perf_counter() - started)
            turn += 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


async def load(server: Server, job_id: str, clients: int, seconds: float, interval: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(server, job_id, until, interval, latencies, errors) for _ in range(clients)))
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=0.5, help="Seconds between one client's requests.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        data = Path(folder) / "data"
        data.mkdir()
        server = Server(data, dict(os.environ, SPACEPORT_MIN_FREE_DISK_BYTES="0"))
        server.token = server.create_user("bench")
        server.start()
        try:
            ids = queue_jobs(server, max(2, int(args.seconds // 10)))
            latencies, errors = asyncio.run(load(server, ids[0], args.clients, args.seconds, args.interval))
            statuses = httpx.get(f"{server.url}/api/v1/jobs?limit=100", headers={"Authorization": f"Bearer {server.token}"}).json()
        finally:
            server.stop()
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f}")
    print(f"{args.clients} clients, one request every {args.interval:g} s each, for {args.seconds:.0f} s while jobs ran "
          f"({sum(j['status'] == 'completed' for j in statuses['items'])} completed during the run)")
    print("| requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(latencies)} | {len(latencies) / args.seconds:.0f} | {quantiles[49] * 1000:.1f} | "
          f"{quantiles[94] * 1000:.1f} | {quantiles[98] * 1000:.1f} | {len(errors)} |")


if __name__ == "__main__":
    main()
