"""Settings from `SPACEPORT_*` environment variables.

Any options model can take its defaults from the environment: field `max_files` of
`IngestOptions` is read from `SPACEPORT_INGEST_MAX_FILES`, for example. Values are parsed
and validated by the model itself, so a bad value names the variable and the rule.
"""

from __future__ import annotations

import os
from typing import TypeVar

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from spaceport.errors import InputError

Model = TypeVar("Model", bound=BaseModel)


def env_name(prefix: str, field: str) -> str:
    """`SPACEPORT_<PREFIX>_<FIELD>` (or `SPACEPORT_<FIELD>` without prefix) in upper case."""
    return "_".join(part for part in ("SPACEPORT", prefix, field) if part).upper()


def from_env(model: type[Model], prefix: str, **overrides: object) -> Model:
    """Build `model` from its defaults, then the environment, then `overrides`."""
    values: dict[str, object] = {}
    for field in model.model_fields:
        raw = os.environ.get(env_name(prefix, field))
        if raw is not None:
            values[field] = raw
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise InputError(
            f"option {field} (environment {env_name(prefix, field)} or --{field.replace('_', '-')}): "
            f"{first['msg']}"
        ) from None


GIB = 1024**3


class ServiceSettings(BaseModel):
    """Settings of the service (`spaceport serve`), from `SPACEPORT_<FIELD>` or flags."""

    data_dir: Path = Field(Path("spaceport-data"), description="Folder for the database, uploads and job workspaces.")
    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    workers: int = Field(1, ge=1, le=64, description="Jobs run at the same time.")
    database_url: str = Field("", description="SQLAlchemy database URL (default: SQLite file in data_dir).")
    public_url: str = Field("", description="Base URL of the service, for links in e-mails (default: http://host:port).")
    max_upload_bytes: int = Field(20 * GIB, gt=0, description="Largest upload, bytes.")
    min_free_disk_bytes: int = Field(2 * GIB, ge=0, description="Free disk needed in data_dir before a job starts, bytes.")
    job_time_limit_s: float = Field(24 * 3600, gt=0, description="Longest a job may run, seconds.")
    stop_grace_s: float = Field(10.0, gt=0, description="Seconds between SIGTERM and SIGKILL when stopping a job.")
    smtp_host: str = Field("", description="SMTP server for e-mail notifications (empty: no e-mail).")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_security: Literal["none", "starttls", "tls"] = Field("starttls", description="SMTP connection security.")
    smtp_user: str = Field("", description="SMTP login (empty: no login).")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_sender: str = Field("spaceport@localhost", description="From address of notification e-mails.")

    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'spaceport.db').resolve()}"

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
