"""Flight plans over HTTP: plan a mission, store it per project, fetch it, export it.

    POST /api/v1/flightplans                      {project_id?, mission} -> stored plan (201)
    GET  /api/v1/flightplans?project_id=...       the user's plans (of a project), newest first
    GET  /api/v1/flightplans/{id}                 one plan: waypoints and summary
    GET  /api/v1/flightplans/{id}/export?format=litchi|kml|geojson|wpml[&mission=N]

A plan split into several missions exports as a ZIP of the per-mission files unless
`mission` picks one. Bad requests get 422 with the planner's one-line message. Plans
belong to the user's projects (the "Default" one when no project is given); another
user's plan or project answers 404.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from spaceport import flightplan
from spaceport.api.deps import current_user, get_session
from spaceport.jobs.models import Base, Project, User
from spaceport.jobs.store import default_project, owned
from spaceport.errors import SpaceportError
from spaceport.flightplan import FlightPlan, GridOptions, OrbitOptions

router = APIRouter(prefix="/api/v1/flightplans", tags=["flightplans"])
SessionDep = Annotated[Session, Depends(get_session)]
UserDep = Annotated[User, Depends(current_user)]
MEDIA_TYPES = {"litchi": "text/csv", "kml": "application/vnd.google-earth.kml+xml",
               "geojson": "application/geo+json", "wpml": "application/vnd.google-earth.kmz"}


class FlightPlanRecord(Base):
    """A stored plan: the whole FlightPlan as JSON, found by id or by project."""

    __tablename__ = "flightplans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    project_id: Mapped[str] = mapped_column(String(32), ForeignKey("projects.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    plan: Mapped[dict] = mapped_column(JSON)


class FlightPlanCreate(BaseModel):
    """A mission request for a project."""

    project_id: str | None = Field(None, max_length=32, description="Project the plan belongs to (default: Default).")
    mission: GridOptions | OrbitOptions = Field(discriminator="kind", description="Grid or orbit request (see `kind`).")


class FlightPlanOut(BaseModel):
    """A stored plan."""

    id: str
    project_id: str
    created_at: datetime
    plan: FlightPlan


class FlightPlanBrief(BaseModel):
    """A stored plan without its waypoints."""

    id: str
    project_id: str
    created_at: datetime
    summary: flightplan.Summary


def as_out(record: FlightPlanRecord) -> FlightPlanOut:
    return FlightPlanOut(id=record.id, project_id=record.project_id, created_at=record.created_at,
                         plan=FlightPlan.model_validate(record.plan))


def load(session: Session, user: User, plan_id: str) -> FlightPlanRecord:
    record = owned(session, FlightPlanRecord, plan_id, user)
    if record is None:
        raise HTTPException(status_code=404, detail=f"flight plan {plan_id!r} not found")
    return record


@router.post("", status_code=201, response_model=FlightPlanOut)
def create_flightplan(body: FlightPlanCreate, session: SessionDep, user: UserDep) -> FlightPlanOut:
    """Plan the mission and store it under the project."""
    project = default_project(session, user) if body.project_id is None else owned(session, Project, body.project_id, user)
    if project is None:
        raise HTTPException(status_code=404, detail=f"project_id: no project '{body.project_id}'")
    if isinstance(body.mission.camera, str) and flightplan.cameras.normalized(body.mission.camera) not in flightplan.CAMERAS:
        raise HTTPException(status_code=422, detail=f"camera {body.mission.camera!r} is not known; use one of "
                            f"{', '.join(flightplan.CAMERAS)} or give the camera's fields")
    try:
        plan = flightplan.plan_mission(body.mission)
    except SpaceportError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    record = FlightPlanRecord(id=uuid.uuid4().hex, owner_id=user.id, project_id=project.id, created_at=datetime.now(timezone.utc),
                              plan=plan.model_dump(mode="json"))
    session.add(record)
    session.commit()
    return as_out(record)


@router.get("", response_model=list[FlightPlanBrief])
def list_flightplans(session: SessionDep, user: UserDep, project_id: str | None = None) -> list[FlightPlanBrief]:
    """The user's plans (of one project when given), newest first, without waypoints."""
    query = select(FlightPlanRecord).where(FlightPlanRecord.owner_id == user.id)
    if project_id is not None:
        query = query.where(FlightPlanRecord.project_id == project_id)
    records = session.scalars(query.order_by(FlightPlanRecord.created_at.desc()))
    return [FlightPlanBrief(id=r.id, project_id=r.project_id, created_at=r.created_at, summary=r.plan["summary"]) for r in records]


@router.get("/{plan_id}", response_model=FlightPlanOut)
def get_flightplan(plan_id: str, session: SessionDep, user: UserDep) -> FlightPlanOut:
    """One stored plan with its waypoints and summary."""
    return as_out(load(session, user, plan_id))


@router.get("/{plan_id}/export")
def export_flightplan(
    plan_id: str, session: SessionDep, user: UserDep, format: Literal["litchi", "kml", "geojson", "wpml"] = "litchi",
    mission: Annotated[int | None, Query(ge=1, description="1-based mission of a split plan")] = None,
) -> Response:
    """The plan as a file for a drone app or GIS; a ZIP of per-mission files when split and `mission` is not given."""
    plan = FlightPlan.model_validate(load(session, user, plan_id).plan)
    files = flightplan.export(plan, format, stem=f"flightplan-{plan_id[:8]}")
    names = list(files)
    if mission is not None:
        if mission > len(names):
            raise HTTPException(status_code=404, detail=f"mission = {mission}: the plan has {len(names)} mission(s)")
        names = [names[mission - 1]]
    if len(names) == 1:
        return Response(files[names[0]], media_type=MEDIA_TYPES[format],
                        headers={"Content-Disposition": f'attachment; filename="{names[0]}"'})
    return Response(zipped({name: files[name] for name in names}), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="flightplan-{plan_id[:8]}-{format}.zip"'})


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
