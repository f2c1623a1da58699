"""Jobs: create (upload or URL), list, show, stop, restart, delete, log, live events, files."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spaceport import pipeline
from spaceport.api.deps import current_user, get_session, get_settings
from spaceport.api.schemas import JobIn, JobOut, JobPage, RestartIn
from spaceport.config import ServiceSettings, from_env
from spaceport.errors import InputError
from spaceport.ingest.archive import list_zip
from spaceport.ingest.download import resolve
from spaceport.ingest.exif import IMAGE_SUFFIXES
from spaceport.ingest.options import IngestOptions
from spaceport.jobs.models import FINAL, STATUSES, Job, Project, User, new_id, now
from spaceport.jobs.store import default_project, owned, request_stop
from spaceport.pipeline.supplied import find_colmap_dataset, find_ply
from spaceport.splat.ply import check_ply

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])

RESULT_FILES = {
    "images-report.json": "images/report.json",
    "sfm-report.json": "sfm/report.json",
    "scene.ply": "train/scene.ply",
    "metrics.json": "train/metrics.json",
    "scene.sog": "compress/scene.sog",
    "compress-report.json": "compress/report.json",
    "job.log": "job.log",
}
EVENT_POLL_S = 0.5
UPLOAD_CHUNK = 1 << 20
PHOTOS = ({".zip", *IMAGE_SUFFIXES}, "a ZIP or a JPEG, PNG or TIFF photo")
UPLOAD_TYPES = {  # start stage -> (file suffixes it takes, what they are)
    "images": PHOTOS,
    "sfm": PHOTOS,
    "train": ({".zip"}, "a ZIP of a COLMAP dataset (sparse/0/ and images/)"),
    "compress": ({".ply", ".zip"}, "a 3DGS PLY or a ZIP holding one"),
}


def job_out(job: Job, request: Request) -> JobOut:
    end = job.finished_at or (now() if job.started_at else None)
    workspace = Path(job.workspace)
    files = {
        name: str(request.url_for("job_file", job_id=job.id, name=name))
        for name, relative in RESULT_FILES.items()
        if (workspace / relative).is_file()
    }
    return JobOut(
        id=job.id, name=job.name, project_id=job.project_id, status=job.status,
        start_stage=job.start_stage or "images", stage=job.stage,
        progress=job.progress, message=job.message, error=job.error, created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at, options=job.options, files=files,
        seconds=(end - job.started_at).total_seconds() if job.started_at and end else None,
    )


def get_job(session: Session, user: User, job_id: str) -> Job:
    job = owned(session, Job, job_id, user)
    if job is None:
        raise HTTPException(404, f"no job '{job_id}'")
    return job


def operator_ingest_options() -> IngestOptions:
    """Ingest limits are the operator's (environment), never the submitter's."""
    return from_env(IngestOptions, "ingest")


def check_url(url: str, field: str, schemes: tuple[str, ...] = ("http", "https", "s3")) -> None:
    """Refuse URLs whose scheme is not one of `schemes` or that point at private addresses (SSRF)."""
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        kinds = [f"{scheme}://" for scheme in schemes]
        raise HTTPException(422, f"{field}: '{url}' is not an {', '.join(kinds[:-1])} or {kinds[-1]} URL")
    if parts.scheme != "s3":
        try:
            resolve(parts.hostname, parts.port or 443, operator_ingest_options())
        except InputError as error:
            raise HTTPException(422, f"{field}: {error}") from None


def resolve_project(session: Session, user: User, project_id: str | None) -> Project:
    if project_id is None:
        return default_project(session, user)
    project = owned(session, Project, project_id, user)
    if project is None:
        raise HTTPException(404, f"project_id: no project '{project_id}'")
    return project


def add_job(session: Session, settings: ServiceSettings, user: User, spec: JobIn, job_id: str, source: str) -> Job:
    project = resolve_project(session, user, spec.project_id)
    options = spec.options.model_copy(update={"ingest": operator_ingest_options()})
    job = Job(
        id=job_id, owner_id=user.id, project_id=project.id, name=spec.name or f"job {job_id[:8]}", source=source,
        start_stage=spec.start_stage, options=options.model_dump(mode="json"), email=spec.email, webhook_url=spec.webhook_url,
        webhook_secret=spec.webhook_secret, workspace=str(workspace_of(settings, job_id)), notified=True,
    )
    session.add(job)
    session.commit()
    return job


def workspace_of(settings: ServiceSettings, job_id: str) -> Path:
    return (settings.data_dir / "jobs" / job_id).resolve()


@router.post("", status_code=201, response_model=JobOut)
async def create_job(
    request: Request,
    session: Session = Depends(get_session),
    user: User = Depends(current_user),
    settings: ServiceSettings = Depends(get_settings),
) -> JobOut:
    """Start a job: multipart upload (`files`: one ZIP or many photos, or with `start_stage`
    train one ZIP of a COLMAP dataset, with compress one 3DGS PLY or a ZIP holding one;
    `job`: JSON like the URL form without `source`) or a JSON body with a `source` URL."""
    job_id = new_id()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        spec, source = await receive_upload(request, settings, workspace_of(settings, job_id))
    else:
        try:
            spec = JobIn.model_validate(await request.json())
        except (ValidationError, json.JSONDecodeError) as error:
            raise HTTPException(422, validation_message(error)) from None
        source = spec.source
        check_url(source, "source")
    if spec.webhook_url:
        check_url(spec.webhook_url, "webhook_url", ("http", "https"))
    return job_out(add_job(session, settings, user, spec, job_id, source), request)


def validation_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    return f"body: not valid JSON ({error})"


async def receive_upload(request: Request, settings: ServiceSettings, workspace: Path) -> tuple[JobIn, str]:
    """Stream the uploaded files to `workspace/upload` (never held in memory); the job spec from `job`."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.max_upload_bytes:
        raise HTTPException(413, f"upload of {declared} bytes is over the limit of {settings.max_upload_bytes} (max_upload_bytes)")
    form = await request.form(max_files=operator_ingest_options().max_files, max_fields=20)
    try:
        spec = JobIn.model_validate({"source": "upload", **json.loads(form.get("job") or "{}")})
    except (ValidationError, json.JSONDecodeError) as error:
        raise HTTPException(422, "job: " + validation_message(error)) from None
    uploads = [item for item in form.getlist("files") if hasattr(item, "filename")]
    if not uploads:
        raise HTTPException(422, "files: no files uploaded; send one ZIP or several photos as 'files'")
    names = [safe_name(PurePosixPath(upload.filename or "").name) for upload in uploads]
    check_upload_types(names, spec.start_stage)
    target = workspace / "upload"
    target.mkdir(parents=True, exist_ok=True)
    total = 0
    try:
        for upload, name in zip(uploads, names):
            total += await save_upload(upload, target / name, settings.max_upload_bytes - total)
        if spec.start_stage in pipeline.SUPPLIED:
            check_supplied_upload(target / names[0], spec.start_stage)
    except HTTPException:
        shutil.rmtree(workspace, ignore_errors=True)
        raise
    one_file = spec.start_stage in pipeline.SUPPLIED or names[0].lower().endswith(".zip")
    return spec, str(target / names[0] if one_file else target)


def check_upload_types(names: list[str], start: str) -> None:
    """Refuse, before saving anything, files that cannot start a job at `start` (HTTP 415 or 422)."""
    suffixes, what = UPLOAD_TYPES[start]
    for name in names:
        suffix = PurePosixPath(name).suffix.lower()
        if suffix == ".ply" and start != "compress":
            raise HTTPException(422, f"start_stage: '{name}' is a PLY, which starts a job at compress; "
                                     f"set start_stage to compress (it is {start})")
        if suffix not in suffixes:
            raise HTTPException(415, f"files: '{name}' is not {what}, which a job starting at {start} takes")
    if start in pipeline.SUPPLIED and len(names) > 1:
        raise HTTPException(422, f"files: a job starting at {start} takes one file ({what}); got {len(names)}")
    if len(names) > 1 and any(name.lower().endswith(".zip") for name in names):
        raise HTTPException(422, "files: send either one ZIP or photos, not both")


def check_supplied_upload(path: Path, start: str) -> None:
    """Check an upload that starts a job at train or compress by the pipeline's own rules,
    from the ZIP listing or the PLY header only; a problem is HTTP 422 naming `files`."""
    options = operator_ingest_options()
    try:
        if start == "train":
            find_colmap_dataset(list_zip(path, options), path.name)
        elif path.suffix.lower() == ".zip":
            find_ply(list_zip(path, options), path.name)
        else:
            check_ply(path, path.name)
    except InputError as error:
        raise HTTPException(422, f"files: {error}") from None


async def save_upload(upload, path: Path, budget: int) -> int:
    written = 0
    with open(path, "wb") as sink:
        while chunk := await upload.read(UPLOAD_CHUNK):
            written += len(chunk)
            if written > budget:
                raise HTTPException(413, "upload is over the limit (max_upload_bytes)")
            sink.write(chunk)
    return written


def safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name).lstrip(".") or "upload"


@router.get("", response_model=JobPage)
def list_jobs(
    request: Request,
    project_id: str | None = None,
    status: str | None = Query(None, description=f"one of {', '.join(STATUSES)}"),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
    session: Session = Depends(get_session),
    user: User = Depends(current_user),
) -> JobPage:
    if status is not None and status not in STATUSES:
        raise HTTPException(422, f"status: '{status}' is not one of {', '.join(STATUSES)}")
    query = select(Job).where(Job.owner_id == user.id)
    if project_id:
        query = query.where(Job.project_id == project_id)
    if status:
        query = query.where(Job.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    jobs = session.scalars(query.order_by(Job.created_at.desc()).offset(offset).limit(limit))
    return JobPage(items=[job_out(job, request) for job in jobs], total=total, offset=offset, limit=limit)


@router.get("/{job_id}", response_model=JobOut)
def show_job(job_id: str, request: Request, session: Session = Depends(get_session), user: User = Depends(current_user)):
    return job_out(get_job(session, user, job_id), request)


@router.post("/{job_id}/stop", response_model=JobOut)
def stop_job(job_id: str, request: Request, session: Session = Depends(get_session), user: User = Depends(current_user)):
    """Stop a queued or running job; finished stages are kept, so a restart resumes."""
    job = get_job(session, user, job_id)
    try:
        request_stop(session, job)
    except InputError as error:
        raise HTTPException(409, str(error)) from None
    return job_out(job, request)


@router.post("/{job_id}/restart", response_model=JobOut)
def restart_job(
    job_id: str, request: Request, body: RestartIn | None = None,
    session: Session = Depends(get_session), user: User = Depends(current_user),
):
    """Queue a finished job again: resume, or redo from `from_stage`, optionally with new options."""
    job = get_job(session, user, job_id)
    if not job.is_final:
        raise HTTPException(409, f"job '{job_id}' is {job.status}; stop it before restarting")
    body = body or RestartIn()
    start = job.start_stage or "images"
    if body.from_stage and start in pipeline.SUPPLIED and pipeline.STAGES.index(body.from_stage) < pipeline.STAGES.index(start):
        later = " or ".join(pipeline.STAGES[pipeline.STAGES.index(start):])
        raise HTTPException(422, f"from_stage: job '{job_id}' starts at {start} from a supplied input; restart it from {later}")
    if body.options is not None:
        job.options = body.options.model_copy(update={"ingest": operator_ingest_options()}).model_dump(mode="json")
    if body.from_stage:
        pipeline.rerun_from(Path(job.workspace), body.from_stage)
    job.status, job.stop_requested, job.error, job.progress = "queued", False, None, 0.0
    job.message, job.finished_at, job.notified = "queued for restart", None, True
    session.commit()
    return job_out(job, request)


@router.delete("/{job_id}", status_code=204)
def delete_job(job_id: str, session: Session = Depends(get_session), user: User = Depends(current_user)) -> None:
    """Remove a finished job and all its files."""
    job = get_job(session, user, job_id)
    if not job.is_final:
        raise HTTPException(409, f"job '{job_id}' is {job.status}; stop it before deleting")
    shutil.rmtree(job.workspace, ignore_errors=True)
    session.delete(job)
    session.commit()


@router.get("/{job_id}/log", response_class=PlainTextResponse)
def job_log(job_id: str, session: Session = Depends(get_session), user: User = Depends(current_user)) -> str:
    path = Path(get_job(session, user, job_id).workspace) / "job.log"
    return path.read_text(errors="replace") if path.is_file() else ""


@router.get("/{job_id}/files/{name}", name="job_file")
def job_file(job_id: str, name: str, session: Session = Depends(get_session), user: User = Depends(current_user)):
    job = get_job(session, user, job_id)
    if name not in RESULT_FILES:
        raise HTTPException(404, f"no file '{name}'; files are {', '.join(RESULT_FILES)}")
    path = Path(job.workspace) / RESULT_FILES[name]
    if not path.is_file():
        raise HTTPException(404, f"'{name}' does not exist (yet) for job '{job_id}'")
    return FileResponse(path, filename=name)


@router.get("/{job_id}/events")
async def job_events(job_id: str, request: Request, session: Session = Depends(get_session), user: User = Depends(current_user)):
    """Server-sent events: a `progress` event on every change, ending with the final status."""
    get_job(session, user, job_id)
    sessions = request.app.state.sessions

    async def stream():
        last = None
        while True:
            with sessions() as poll:
                job = poll.get(Job, job_id)
                if job is None:
                    return
                state = {"status": job.status, "stage": job.stage, "progress": job.progress,
                         "message": job.message, "error": job.error}
            if state != last:
                yield f"event: progress\ndata: {json.dumps(state)}\n\n"
                last = state
            if state["status"] in FINAL or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_POLL_S)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
