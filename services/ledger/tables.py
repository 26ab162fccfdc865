"""Ledger tables: the append-only entries and the current state of each incident."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime
from sqlmodel import Field, SQLModel


def _timestamp(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class LedgerEntry(SQLModel, table=True):
    """One consumed event, written once (unique event id) and never updated."""

    __tablename__ = "ledger_entry"

    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    event_id: str = Field(unique=True)
    incident_id: uuid.UUID = Field(index=True)
    type: str
    source: str
    occurred_at: datetime = Field(sa_column=_timestamp(nullable=False))
    recorded_at: datetime = Field(sa_column=_timestamp(nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class IncidentState(SQLModel, table=True):
    """The current state of one incident, projected from its ledger entries."""

    __tablename__ = "ledger_incident_state"

    incident_id: uuid.UUID = Field(primary_key=True)
    status: str = Field(default="reported", index=True)
    status_rank: int = 0
    category: str | None = Field(default=None, index=True)
    channel: str | None = None
    household_id: str | None = Field(default=None, index=True)
    grid_id: str | None = Field(default=None, index=True)
    assignee_id: str | None = Field(default=None, index=True)
    rung: str | None = None
    assignment_reason: str | None = None
    reported_at: datetime | None = Field(default=None, sa_column=_timestamp())
    assigned_at: datetime | None = Field(default=None, sa_column=_timestamp())
    accepted_at: datetime | None = Field(default=None, sa_column=_timestamp())
    resolved_at: datetime | None = Field(default=None, sa_column=_timestamp())
    event_count: int = 0


ALL_TABLES: list[type[SQLModel]] = [LedgerEntry, IncidentState]
