"""Health, service information and the description of every option (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from spaceport import __version__
from spaceport.api.deps import get_session
from spaceport.jobs.store import queue_length
from spaceport.pipeline import JobOptions

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/health")
def health() -> dict:
    return {"status": "ok"}


@router.get("/info")
def info(session: Session = Depends(get_session)) -> dict:
    return {"version": __version__, "queue_length": queue_length(session), "gpu": gpu_present()}


def gpu_present() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@router.get("/options")
def options() -> dict:
    """Every stage option: type, default, allowed range and help (JSON Schema of JobOptions)."""
    return JobOptions.model_json_schema()
