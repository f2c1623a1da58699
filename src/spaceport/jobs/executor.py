"""The local executor: runs queued jobs, each in its own OS process group.

A thread in the server polls the database: it starts queued jobs while fewer than
`workers` run (after a free-disk check), signals the process group of jobs asked to stop
(SIGTERM, then SIGKILL after `stop_grace_s`) or past `job_time_limit_s`, fails jobs whose
process died without a final status (a crash fails one job, never the server), and sends
the notifications of finished jobs. On start, jobs left running by a previous server are
killed and queued again: they resume after their last finished stage.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from spaceport.config import ServiceSettings
from spaceport.jobs.models import Job, now
from spaceport.jobs.store import mark_final
from spaceport.notify import notify_job

log = logging.getLogger("spaceport.executor")
POLL_S = 0.3
LOG_TAIL_BYTES = 2000


@dataclass
class Running:
    process: subprocess.Popen
    started: float = field(default_factory=time.monotonic)
    term_sent: float | None = None


class LocalExecutor:
    """Runs jobs on this machine; `start()` launches its thread, `shutdown()` ends it."""

    def __init__(self, settings: ServiceSettings, sessions: sessionmaker[Session]) -> None:
        self.settings, self.sessions = settings, sessions
        self.running: dict[str, Running] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="executor", daemon=True)

    def start(self) -> None:
        self.recover()
        self.thread.start()

    def shutdown(self) -> None:
        """Stop polling and kill running jobs; they stay `running` and resume at next start."""
        self.stopping.set()
        self.thread.join(timeout=10)
        for running in self.running.values():
            kill_group(running.process.pid, signal.SIGKILL)
            running.process.wait(timeout=10)

    def loop(self) -> None:
        while not self.stopping.is_set():
            try:
                with self.sessions() as session:
                    self.reap(session)
                    self.signal_jobs(session)
                    self.launch(session)
                    self.notify(session)
            except Exception:  # keep the executor alive whatever one round met
                log.exception("executor round failed")
            self.stopping.wait(POLL_S)

    def recover(self) -> None:
        """Kill jobs a previous server left running and queue them again."""
        with self.sessions() as session:
            for job in session.scalars(select(Job).where(Job.status == "running")):
                if job.pid and is_worker(job.pid, job.id):
                    kill_group(job.pid, signal.SIGKILL)
                job.status, job.pid, job.message = "queued", None, "resuming after a server restart"
            session.commit()

    def launch(self, session: Session) -> None:
        while len(self.running) < self.settings.workers:
            queued = select(Job).where(Job.status == "queued", Job.id.not_in(list(self.running)))
            job = session.scalars(queued.order_by(Job.created_at)).first()
            if job is None:
                return
            free = shutil.disk_usage(self.settings.data_dir).free
            if free < self.settings.min_free_disk_bytes:
                mark_final(session, job, "failed", "failed",
                           f"only {free} bytes free in the data folder, {self.settings.min_free_disk_bytes} needed (min_free_disk_bytes)")
                continue
            self.start_job(session, job)

    def start_job(self, session: Session, job: Job) -> None:
        workspace = Path(job.workspace)
        workspace.mkdir(parents=True, exist_ok=True)
        with open(workspace / "job.log", "ab") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "spaceport.jobs.worker", self.settings.database(), job.id],
                stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        job.status, job.pid, job.error = "running", process.pid, None
        job.started_at, job.finished_at, job.message = now(), None, "starting"
        session.commit()
        self.running[job.id] = Running(process)

    def reap(self, session: Session) -> None:
        """Forget finished processes; fail jobs whose process ended without a final status."""
        for job_id, running in list(self.running.items()):
            code = running.process.poll()
            if code is None:
                continue
            del self.running[job_id]
            job = session.get(Job, job_id)
            session.refresh(job)
            if job.status != "running" or job.pid != running.process.pid:
                continue  # it recorded its own end (or was queued again since)
            if job.stop_requested:
                mark_final(session, job, "canceled", "stopped on request")
            else:
                tail = log_tail(Path(job.workspace) / "job.log")
                mark_final(session, job, "failed", "failed", f"the job's process ended with code {code}: {tail}")

    def signal_jobs(self, session: Session) -> None:
        """SIGTERM jobs asked to stop or past their time limit; SIGKILL after the grace period."""
        for job_id, running in self.running.items():
            job = session.get(Job, job_id)
            session.refresh(job)
            over_time = time.monotonic() - running.started > self.settings.job_time_limit_s
            if running.term_sent is None and (job.stop_requested or over_time):
                kill_group(running.process.pid, signal.SIGTERM)
                running.term_sent = time.monotonic()
            elif running.term_sent is not None and time.monotonic() - running.term_sent > self.settings.stop_grace_s:
                kill_group(running.process.pid, signal.SIGKILL)

    def notify(self, session: Session) -> None:
        """Send the notifications of jobs that reached a final status (in the background)."""
        for job in session.scalars(select(Job).where(Job.notified.is_(False))):
            job.notified = True
            session.commit()
            threading.Thread(target=notify_job, args=(self.settings, job_summary(job)), daemon=True).start()


def job_summary(job: Job) -> dict:
    """The job record as sent in notifications (JSON-ready)."""
    return {
        "id": job.id, "name": job.name, "project_id": job.project_id, "status": job.status, "stage": job.stage,
        "progress": job.progress, "message": job.message, "error": job.error, "email": job.email,
        "webhook_url": job.webhook_url, "webhook_secret": job.webhook_secret, "workspace": job.workspace,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def is_worker(pid: int, job_id: str) -> bool:
    """True when process `pid` is the worker of `job_id` (guards against reused pids)."""
    try:
        return job_id.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def log_tail(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
            lines = handle.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"
