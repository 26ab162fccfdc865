"""The roster admin API under /v1/roster, and how an app takes it on."""

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI

from services.common import auth
from services.dispatch.roster import entity_routes, file_routes, household_routes, web
from services.dispatch.roster.entities import DEFAULT_HOUSEHOLD_CAP

router = APIRouter(prefix="/v1/roster", tags=["roster"], responses=auth.GUARDED)
router.include_router(entity_routes.router)
router.include_router(household_routes.router)
router.include_router(file_routes.router)


def install(
    app: FastAPI,
    *,
    household_cap: int = DEFAULT_HOUSEHOLD_CAP,
    max_import_bytes: int = web.MAX_IMPORT_BYTES,
    dependencies: Sequence[Any] = (),
) -> None:
    """Add the roster routes, their configuration and their error responses to the app."""
    app.state.roster_policy = web.RosterPolicy(
        household_cap=household_cap, max_import_bytes=max_import_bytes
    )
    web.add_error_handlers(app)
    app.include_router(router, dependencies=list(dependencies))
