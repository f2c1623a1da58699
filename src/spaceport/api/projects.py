"""Projects: every job belongs to one; create, list, rename, delete."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from spaceport.api.deps import current_user, get_session
from spaceport.api.schemas import ProjectIn, ProjectOut
from spaceport.jobs.models import Job, Project, User
from spaceport.jobs.store import owned

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])


def project_out(project: Project) -> ProjectOut:
    return ProjectOut(id=project.id, name=project.name, created_at=project.created_at)


def get_project(session: Session, user: User, project_id: str) -> Project:
    project = owned(session, Project, project_id, user)
    if project is None:
        raise HTTPException(404, f"no project '{project_id}'")
    return project


@router.post("", status_code=201, response_model=ProjectOut)
def create_project(body: ProjectIn, session: Session = Depends(get_session), user: User = Depends(current_user)):
    project = Project(owner_id=user.id, name=body.name)
    session.add(project)
    session.commit()
    return project_out(project)


@router.get("", response_model=list[ProjectOut])
def list_projects(session: Session = Depends(get_session), user: User = Depends(current_user)):
    projects = session.scalars(select(Project).where(Project.owner_id == user.id).order_by(Project.created_at))
    return [project_out(project) for project in projects]


@router.get("/{project_id}", response_model=ProjectOut)
def show_project(project_id: str, session: Session = Depends(get_session), user: User = Depends(current_user)):
    return project_out(get_project(session, user, project_id))


@router.patch("/{project_id}", response_model=ProjectOut)
def rename_project(
    project_id: str, body: ProjectIn, session: Session = Depends(get_session), user: User = Depends(current_user)
):
    project = get_project(session, user, project_id)
    project.name = body.name
    session.commit()
    return project_out(project)


@router.delete("/{project_id}", status_code=204)
def delete_project(project_id: str, session: Session = Depends(get_session), user: User = Depends(current_user)) -> None:
    """Delete a project with its jobs and their files; refused while one of its jobs runs."""
    project = get_project(session, user, project_id)
    jobs = list(session.scalars(select(Job).where(Job.project_id == project.id)))
    busy = [job.id for job in jobs if not job.is_final]
    if busy:
        raise HTTPException(409, f"project '{project_id}' has unfinished jobs ({', '.join(busy)}); stop them first")
    for job in jobs:
        shutil.rmtree(Path(job.workspace), ignore_errors=True)
        session.delete(job)
    session.delete(project)
    session.commit()
