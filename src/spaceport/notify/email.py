"""E-mail over SMTP (plain, STARTTLS or TLS; optional login), from the service settings."""

from __future__ import annotations

import json
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from spaceport.config import ServiceSettings

TIMEOUT_S = 30


def send_email(settings: ServiceSettings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_sender, to, subject
    message.set_content(body)
    if settings.smtp_security == "tls":
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
        client.send_message(message)


def job_email(settings: ServiceSettings, job: dict) -> tuple[str, str]:
    """Subject and body telling how the job ended, with its duration, quality and a link."""
    subject = f"Spaceport: job '{job['name']}' {job['status']}"
    lines = [f"Your job '{job['name']}' {job['status']}."]
    if job.get("error"):
        lines.append(f"Error: {job['error']}")
    duration = seconds_between(job.get("started_at"), job.get("finished_at"))
    if duration is not None:
        lines.append(f"Duration: {duration / 60:.1f} min")
    lines += quality_lines(Path(job["workspace"])) if job.get("workspace") else []
    lines.append(f"Result: {settings.base_url()}/api/v1/jobs/{job['id']}")
    return subject, "\n".join(lines) + "\n"


def seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def quality_lines(workspace: Path) -> list[str]:
    """Key numbers from the finished stages' reports."""
    lines = []
    sfm = workspace / "sfm" / "report.json"
    if sfm.is_file():
        report = json.loads(sfm.read_text())
        lines.append(
            f"Cameras: {report['images_registered']}/{report['images_total']} photos registered, "
            f"{report['points']} points, reprojection error {report['mean_reprojection_error_px']:.2f} px"
        )
    metrics = workspace / "train" / "metrics.json"
    if metrics.is_file():
        report = json.loads(metrics.read_text())
        if report.get("psnr") is not None:
            lines.append(f"Quality on held-out photos: PSNR {report['psnr']:.2f} dB, SSIM {report['ssim']:.3f}")
        lines.append(f"Scene: {report['gaussians']} Gaussians")
    return lines
