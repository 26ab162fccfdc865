"""The ledger's read API, as intake uses it: one case, or a filtered page of cases.

Written against the agreed contract (`GET /v1/incidents/{id}` and
`GET /v1/incidents?status=&category=&from=&to=&...&limit=&cursor=` returning
`{"items": [...], "next_cursor": ...}`); fields a ledger does not send yet default to None.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from services.common.events import GeoPoint


class LedgerUnavailable(Exception):
    """The ledger did not answer (503 to our caller)."""


class IncidentSummary(BaseModel):
    """A case as the ledger's read API describes it; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    incident_id: uuid.UUID
    status: str
    category: str | None = None
    channel: str | None = None
    description: str | None = None
    address: str | None = None
    location: GeoPoint | None = None
    household_id: str | None = None
    grid_id: str | None = None
    source_system: str | None = None
    external_id: str | None = None
    reported_at: datetime | None = None
    updated_at: datetime | None = None
    acknowledged_at: datetime | None = None
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    status_note: str | None = None
    overdue: bool | None = None
    rework_count: int | None = None
    merged_reports: int | None = None
    timeline: list[dict[str, Any]] | None = None

    def last_change(self) -> datetime | None:
        """When the case last changed, from the field or the latest timestamp known."""
        if self.updated_at is not None:
            return self.updated_at
        moments = [
            moment
            for moment in (
                self.closed_at,
                self.resolved_at,
                self.accepted_at,
                self.assigned_at,
                self.acknowledged_at,
                self.reported_at,
            )
            if moment is not None
        ]
        return max(moments) if moments else None


@dataclass(frozen=True)
class Page:
    items: list[IncidentSummary]
    next_cursor: str | None


class LedgerClient:
    """A thin async HTTP client; 404 means the ledger does not know the case (yet)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def incident(self, incident_id: uuid.UUID) -> IncidentSummary | None:
        """One case with its timeline, or None when the ledger has not recorded it."""
        response = await self._get(f"/v1/incidents/{incident_id}", params=None)
        if response.status_code == 404:
            return None
        return IncidentSummary.model_validate(response.json())

    async def incidents(self, **filters: str | int | None) -> Page:
        """A page of cases matching the filters (None filters are left out)."""
        params = {name: str(value) for name, value in filters.items() if value is not None}
        response = await self._get("/v1/incidents", params=params)
        if response.status_code == 404:
            raise LedgerUnavailable("the ledger has no case list (GET /v1/incidents) yet")
        body = response.json()
        return Page(
            items=[IncidentSummary.model_validate(item) for item in body.get("items", [])],
            next_cursor=body.get("next_cursor"),
        )

    async def _get(self, path: str, *, params: dict[str, str] | None) -> httpx.Response:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as error:
            raise LedgerUnavailable(f"ledger unreachable: {type(error).__name__}") from error
        if response.status_code != 404 and response.status_code >= 400:
            raise LedgerUnavailable(f"ledger answered {response.status_code}")
        return response
