"""The original Spaceport front end's endpoints, mapped onto the jobs API.

`POST /start-job {s3Url, email, pipelineStep}` starts a job: `pipelineStep` "sfm" runs the
whole job on the photos at `s3Url`, "3dgs" starts at training from the COLMAP dataset
(ZIP or prefix) at `s3Url`, "compression" at compression from the 3DGS PLY (or a ZIP
holding one) at `s3Url`. `POST /stop-job {jobId}` stops a job.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, EmailStr
from sqlalchemy.orm import Session

from spaceport.api.deps import current_user, get_session, get_settings
from spaceport.api.jobs import add_job, check_url, stop_job
from spaceport.api.schemas import JobIn
from spaceport.config import ServiceSettings
from spaceport.jobs.models import User, new_id

router = APIRouter(tags=["compatibility"])
STEP_STAGES = {"sfm": "images", "3dgs": "train", "compression": "compress"}  # pipelineStep -> start stage


class StartJob(BaseModel):
    s3Url: str
    email: EmailStr | None = None
    pipelineStep: str = "sfm"
    name: str = ""


class StopJob(BaseModel):
    jobId: str


@router.post("/start-job", status_code=201)
def start_job(
    body: StartJob, request: Request, session: Session = Depends(get_session),
    user: User = Depends(current_user), settings: ServiceSettings = Depends(get_settings),
) -> dict:
    if body.pipelineStep not in STEP_STAGES:
        raise HTTPException(422, f"pipelineStep: '{body.pipelineStep}' is not one of {', '.join(STEP_STAGES)}")
    check_url(body.s3Url, "s3Url")
    job_id = new_id()
    spec = JobIn(source=body.s3Url, email=body.email, name=body.name, start_stage=STEP_STAGES[body.pipelineStep])
    job = add_job(session, settings, user, spec, job_id, body.s3Url)
    return {"jobId": job.id, "status": job.status}


@router.post("/stop-job")
def stop(body: StopJob, request: Request, session: Session = Depends(get_session), user: User = Depends(current_user)) -> dict:
    job = stop_job(body.jobId, request, session, user)
    return {"jobId": job.id, "status": job.status}
