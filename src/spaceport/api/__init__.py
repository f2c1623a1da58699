"""The REST API (FastAPI): `create_app(settings)` wires the routers, the database and the executor."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from spaceport import __version__
from spaceport.api import compat, flightplans, jobs, projects, system
from spaceport.config import ServiceSettings
from spaceport.errors import SpaceportError
from spaceport.jobs.db import open_database
from spaceport.jobs.executor import LocalExecutor


def create_app(settings: ServiceSettings, run_jobs: bool = True) -> FastAPI:
    """The API app; with `run_jobs` it also runs the local executor while it serves."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    sessions = open_database(settings.database())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        executor = LocalExecutor(settings, sessions) if run_jobs else None
        if executor:
            executor.start()
        yield
        if executor:
            executor.shutdown()

    app = FastAPI(title="Spaceport", version=__version__, lifespan=lifespan)
    app.state.settings, app.state.sessions = settings, sessions
    for module in (system, projects, jobs, flightplans, compat):
        app.include_router(module.router)

    @app.exception_handler(SpaceportError)
    async def user_error(request: Request, error: SpaceportError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if part != "body")
        return JSONResponse({"detail": f"{where}: {first['msg']}", "errors": jsonable(error.errors())}, status_code=422)

    return app


def jsonable(errors: list[dict]) -> list[dict]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
