"""One job's process: `python -m spaceport.jobs.worker DATABASE_URL JOB_ID`.

Runs the job's pipeline in its workspace, writes progress to the job record, and records
the final status. SIGTERM cancels (the stage stops at its next check; finished stages stay
finished, so a restart resumes). Output goes to the job's log file (the executor's doing).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from spaceport import pipeline
from spaceport.errors import Cancelled, SpaceportError
from spaceport.jobs.db import connect
from spaceport.jobs.models import Job
from spaceport.jobs.store import mark_final
from spaceport.progress import Progress

WRITE_EVERY_S = 0.5
WORKER_NICENESS = 10


class ProgressWriter:
    """Writes (fraction, message) to the job record at most every WRITE_EVERY_S, and logs it."""

    def __init__(self, sessions: sessionmaker, job_id: str) -> None:
        self.sessions, self.job_id = sessions, job_id
        self.written_at = 0.0
        self.stage: str | None = None

    def on_stage(self, stage: str) -> None:
        self.stage = stage
        self.write(None, f"{stage} started", force=True)

    def __call__(self, fraction: float, message: str) -> None:
        self.write(fraction, message)

    def write(self, fraction: float | None, message: str, force: bool = False) -> None:
        if not force and time.monotonic() - self.written_at < WRITE_EVERY_S:
            return
        self.written_at = time.monotonic()
        print(f"[{(fraction or 0) * 100:5.1f}%] {self.stage}: {message}", flush=True)
        with self.sessions() as session:
            job = session.get(Job, self.job_id)
            job.stage, job.message = self.stage, message
            if fraction is not None:
                job.progress = round(fraction * 100, 2)
            session.commit()


def run(database_url: str, job_id: str) -> int:
    os.nice(WORKER_NICENESS)  # heavy stages yield the CPU to the API
    sessions = sessionmaker(connect(database_url), expire_on_commit=False)
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    with sessions() as session:
        job = session.get(Job, job_id)
        source, workspace, start = job.source, Path(job.workspace), job.start_stage or "images"
        options = pipeline.JobOptions.model_validate(job.options)
    writer = ProgressWriter(sessions, job_id)
    outcome = ("completed", "finished", None)
    try:
        pipeline.run_job(source, workspace, options, Progress(writer, cancel), on_stage=writer.on_stage, start=start)
    except Cancelled:
        outcome = ("canceled", "stopped on request", None)
    except SpaceportError as error:
        outcome = ("failed", "failed", str(error))
    except Exception as error:  # a bug: fail this job with its traceback in the log
        traceback.print_exc()
        outcome = ("failed", "failed", f"internal error: {type(error).__name__}: {error}")
    print(f"job {outcome[0]}" + (f": {outcome[2]}" if outcome[2] else ""), flush=True)
    with sessions() as session:
        job = session.get(Job, job_id)
        if outcome[0] == "canceled" and not job.stop_requested:
            outcome = ("failed", "failed", "stopped: the job ran past its time limit (job_time_limit_s)")
        mark_final(session, job, *outcome)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2]))
