"""Reading and changing job records; every function takes an open session."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spaceport.errors import InputError
from spaceport.jobs.models import Job, Project, User, now


DEFAULT_PROJECT = "Default"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, name: str) -> tuple[User, str]:
    """A new user and their API token (shown once; only its hash is stored)."""
    if session.scalar(select(User).where(User.name == name)):
        raise InputError(f"user '{name}' already exists")
    token = "sp_" + secrets.token_urlsafe(32)
    user = User(name=name, token_hash=hash_token(token))
    session.add(user)
    session.commit()
    return user, token


def user_for_token(session: Session, token: str) -> User | None:
    return session.scalar(select(User).where(User.token_hash == hash_token(token)))


def default_project(session: Session, user: User) -> Project:
    """The user's project called "Default" (created on first use) for jobs given no project."""
    query = select(Project).where(Project.owner_id == user.id, Project.name == DEFAULT_PROJECT)
    project = session.scalar(query.order_by(Project.created_at))
    if project is None:
        project = Project(owner_id=user.id, name=DEFAULT_PROJECT)
        session.add(project)
        session.commit()
    return project


def owned(session: Session, model, item_id: str, user: User):
    """The user's record of `model` with `item_id`, or None (also for other users' records)."""
    item = session.get(model, item_id)
    return item if item is not None and item.owner_id == user.id else None


def queue_length(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Job).where(Job.status == "queued")) or 0


def mark_final(session: Session, job: Job, status: str, message: str, error: str | None = None) -> None:
    """Record a final status (completed, failed, canceled); notifications are then due."""
    job.status, job.message, job.error = status, message, error
    job.finished_at, job.pid, job.notified = now(), None, False
    if status == "completed":
        job.progress = 100.0
    session.commit()


def request_stop(session: Session, job: Job) -> None:
    """Ask for a job to stop: a queued one is canceled now, a running one by the executor."""
    if job.is_final:
        raise InputError(f"job '{job.id}' already {job.status}")
    job.stop_requested = True
    if job.status == "queued":
        mark_final(session, job, "canceled", "stopped before it started")
    session.commit()
