"""Database access for the API: declarative base, engine and a session per request (SQLAlchemy 2).

`connect(url)` creates the tables and returns a sessionmaker; put it on `app.state.sessions`
and routes receive a session through the `get_session` dependency. SQLite by default; any
SQLAlchemy URL (e.g. PostgreSQL) works.
"""

from __future__ import annotations

from typing import Iterator

from fastapi import Request
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    """Base of every table."""


def connect(url: str = "sqlite:///spaceport.db") -> sessionmaker[Session]:
    """Engine for `url` with all tables created; in-memory SQLite is shared across threads (tests)."""
    options = {}
    if url.startswith("sqlite"):
        options["connect_args"] = {"check_same_thread": False}
        if url in ("sqlite://", "sqlite:///:memory:"):
            options["poolclass"] = StaticPool
    engine = create_engine(url, **options)
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: a session from `app.state.sessions`, closed after the request."""
    with request.app.state.sessions() as session:
        yield session
