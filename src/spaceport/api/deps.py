"""Dependencies injected into the routes: settings, a database session, the current user."""

from __future__ import annotations

from typing import Iterator

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from spaceport.config import ServiceSettings
from spaceport.jobs.models import User
from spaceport.jobs.store import user_for_token

bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def current_user(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer), session: Session = Depends(get_session)
) -> User:
    """The user whose API token is in `Authorization: Bearer ...`; 401 otherwise."""
    user = user_for_token(session, credentials.credentials) if credentials else None
    if user is None:
        raise HTTPException(401, "missing or unknown API token: send 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    return user
