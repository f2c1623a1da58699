"""Request and response bodies of the API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from spaceport.pipeline import STAGES, JobOptions

Stage = Literal[STAGES]  # type: ignore[valid-type]


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class ProjectOut(BaseModel):
    id: str
    name: str
    created_at: dt.datetime


class JobIn(BaseModel):
    """A job from a URL (`s3://...`, `https://...`)."""

    source: str = Field(
        description="URL of a ZIP of photos or an s3:// prefix of photos; with start_stage train, of a COLMAP "
        "dataset (ZIP or s3:// prefix with sparse/0/ and images/); with start_stage compress, of a 3DGS PLY "
        "(or a ZIP holding one)."
    )
    start_stage: Stage = Field(
        "images",
        description="First stage to run: images or sfm start from photos, train from a COLMAP dataset, "
        "compress from a 3DGS PLY.",
    )
    name: str = Field("", max_length=200)
    project_id: str | None = None
    email: EmailStr | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = Field(None, max_length=128)
    options: JobOptions = JobOptions()


class RestartIn(BaseModel):
    from_stage: Stage | None = Field(None, description="Redo this stage and those after it (default: resume).")
    options: JobOptions | None = None


class JobOut(BaseModel):
    id: str
    name: str
    project_id: str
    status: str
    start_stage: str = Field(description="The stage the job starts at (images: from photos).")
    stage: str | None
    progress: float = Field(description="0-100 over the whole job.")
    message: str
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    seconds: float | None = Field(None, description="Run time so far or in all.")
    options: dict
    files: dict[str, str] = Field({}, description="Result files: name -> download URL.")


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    offset: int
    limit: int
