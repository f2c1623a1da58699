"""Notifications when a job ends: e-mail over SMTP and signed webhooks.

`notify_job(settings, job)` sends both where configured; each is retried with backoff,
and a failure is logged, never raised: a notification never fails a job. Webhook targets
are checked like download URLs, with the operator's `SPACEPORT_INGEST_ALLOW_PRIVATE_URLS`.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from spaceport.config import ServiceSettings, from_env
from spaceport.ingest.options import IngestOptions
from spaceport.notify.email import job_email, send_email
from spaceport.notify.webhook import post_webhook

log = logging.getLogger("spaceport.notify")
ATTEMPTS = 4
FIRST_DELAY_S = 1.0


def notify_job(settings: ServiceSettings, job: dict) -> None:
    if job.get("email") and settings.smtp_host:
        subject, body = job_email(settings, job)
        with_retries(f"e-mail for job {job['id']}", lambda: send_email(settings, job["email"], subject, body))
    if job.get("webhook_url"):
        payload = {key: value for key, value in job.items() if key not in {"webhook_secret", "workspace"}}
        with_retries(
            f"webhook for job {job['id']}",
            lambda: post_webhook(job["webhook_url"], payload, job.get("webhook_secret"), from_env(IngestOptions, "ingest")),
        )


def with_retries(what: str, send: Callable[[], None], attempts: int = ATTEMPTS, delay_s: float = FIRST_DELAY_S) -> bool:
    """Call `send` until it succeeds, doubling the delay between tries; True if it did."""
    for attempt in range(1, attempts + 1):
        try:
            send()
            return True
        except Exception as error:  # network, server or protocol errors alike
            log.warning("%s failed (try %d/%d): %s", what, attempt, attempts, error)
            if attempt < attempts:
                time.sleep(delay_s * 2 ** (attempt - 1))
    log.error("%s given up after %d tries", what, attempts)
    return False
