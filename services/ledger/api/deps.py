"""What routes get from the running ledger: the engine, the settings and the clock.

Role-based access belongs here: a dependency that turns the caller's token into a
`CaseFilter` restriction (own cases, own grid) that the routes intersect. It is not yet
enforced on the ledger's read API.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.settings import LedgerSettings


def _engine(request: Request) -> AsyncEngine:
    return request.app.state.ledger.engine  # type: ignore[no-any-return]


def _settings(request: Request) -> LedgerSettings:
    return request.app.state.ledger.settings  # type: ignore[no-any-return]


def _now() -> datetime:
    return datetime.now(UTC)


Engine = Annotated[AsyncEngine, Depends(_engine)]
Settings = Annotated[LedgerSettings, Depends(_settings)]
Now = Annotated[datetime, Depends(_now)]
