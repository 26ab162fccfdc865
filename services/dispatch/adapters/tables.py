"""Dispatch's own tables: the roster (grids, members, households, residents, cameras) and cases."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, text
from sqlmodel import Field, SQLModel


def _timestamp(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


# A grid's bounding box as a PostgreSQL box; its GiST index finds the grids that may hold a
# point without reading every grid (locating a point stays flat as the city grows).
GRID_BOX = "box(point(min_lon, min_lat), point(max_lon, max_lat))"


class GridRow(SQLModel, table=True):
    __tablename__ = "dispatch_grid"
    __table_args__ = (Index("ix_dispatch_grid_box", text(GRID_BOX), postgresql_using="gist"),)

    id: str = Field(primary_key=True)
    name: str
    leader_id: str | None = None
    committee_member_id: str | None = None
    min_lat: float | None = None
    min_lon: float | None = None
    max_lat: float | None = None
    max_lon: float | None = None


class GridBoundaryRow(SQLModel, table=True):
    """A grid's boundary as a GeoJSON Polygon or MultiPolygon; the grid's box columns bound it."""

    __tablename__ = "dispatch_grid_boundary"

    grid_id: str = Field(primary_key=True)
    geometry: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class MemberRow(SQLModel, table=True):
    __tablename__ = "dispatch_member"

    id: str = Field(primary_key=True)
    name: str
    role: str = Field(index=True)
    grid_id: str | None = Field(default=None, index=True)
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    case_capacity: int = 20


class HouseholdRow(SQLModel, table=True):
    __tablename__ = "dispatch_household"

    id: str = Field(primary_key=True)
    grid_id: str = Field(index=True)
    address: str
    village: str
    village_group: str
    linked_member_id: str = Field(index=True)
    lat: float | None = None
    lon: float | None = None
    elderly_alone: bool = False
    disabled: bool = False


class ResidentRow(SQLModel, table=True):
    __tablename__ = "dispatch_resident"

    id: str = Field(primary_key=True)
    household_id: str = Field(index=True)
    name: str
    birth_year: int


class CameraRow(SQLModel, table=True):
    __tablename__ = "dispatch_camera"

    id: str = Field(primary_key=True)
    grid_id: str = Field(index=True)
    place: str
    lat: float
    lon: float


class CaseRow(SQLModel, table=True):
    """Dispatch's authoritative view of one incident's lifecycle."""

    __tablename__ = "dispatch_case"

    incident_id: uuid.UUID = Field(primary_key=True)
    category: str
    channel: str
    description: str = ""
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    reporter_phone_masked: str | None = None
    household_id: str | None = None
    grid_id: str | None = Field(default=None, index=True)
    status: str = Field(index=True)
    assignee_id: str | None = Field(default=None, index=True)
    co_handler_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    declined_by: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    missed_by: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rung: str
    reason: str
    attempt: int = 1
    version: int = 0
    rework_count: int = 0
    merged_reports: int = 0
    parked: bool = False
    extension_pending: bool = False
    extension_reason: str | None = None
    extension_seconds: float | None = None
    paused_left_seconds: float | None = None
    reported_at: datetime = Field(sa_column=_timestamp(nullable=False))
    assigned_at: datetime = Field(sa_column=_timestamp(nullable=False))
    acknowledge_due_at: datetime | None = Field(default=None, sa_column=_timestamp())
    resolve_due_at: datetime | None = Field(default=None, sa_column=_timestamp())
    accepted_at: datetime | None = Field(default=None, sa_column=_timestamp())
    started_at: datetime | None = Field(default=None, sa_column=_timestamp())
    resolved_at: datetime | None = Field(default=None, sa_column=_timestamp())
    closed_at: datetime | None = Field(default=None, sa_column=_timestamp())
    result: str | None = None


class TimerRow(SQLModel, table=True):
    """A deadline timer; the durable truth behind the Redis schedule."""

    __tablename__ = "dispatch_timer"
    __table_args__ = (
        Index("ix_dispatch_timer_pending", "due_at", postgresql_where=text("fired_at is null")),
    )

    id: str = Field(primary_key=True)
    incident_id: uuid.UUID = Field(index=True)
    kind: str
    attempt: int
    due_at: datetime = Field(sa_column=_timestamp(nullable=False))
    fired_at: datetime | None = Field(default=None, sa_column=_timestamp())
    cancelled: bool = False


class ProcessedEventRow(SQLModel, table=True):
    """Consumed events already acted on, so a redelivery acts nowhere twice."""

    __tablename__ = "dispatch_processed_event"

    event_id: str = Field(primary_key=True)
    incident_id: uuid.UUID
    processed_at: datetime = Field(sa_column=_timestamp(nullable=False))


ROSTER_TABLES: list[type[SQLModel]] = [
    GridRow,
    GridBoundaryRow,
    MemberRow,
    HouseholdRow,
    ResidentRow,
    CameraRow,
]
ALL_TABLES: list[type[SQLModel]] = [*ROSTER_TABLES, CaseRow, TimerRow, ProcessedEventRow]


class OutboxRow(SQLModel, table=True):
    """An event committed with the state change that caused it, until Kafka has it."""

    __tablename__ = "dispatch_outbox"
    __table_args__ = (
        Index("ix_dispatch_outbox_unsent", "seq", postgresql_where=text("sent_at is null")),
    )

    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    event_id: str = Field(unique=True)
    incident_id: uuid.UUID
    topic: str
    event_type: str
    key: bytes
    value: bytes
    headers: list[list[str]] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_timestamp())


ALL_TABLES.append(OutboxRow)


class AccountRow(SQLModel, table=True):
    """A person who signs in: an officer, a grid leader, the committee, an operator, a viewer."""

    __tablename__ = "dispatch_account"

    username: str = Field(primary_key=True)
    password_hash: str
    role: str
    member_id: str | None = Field(default=None, index=True)
    disabled: bool = False
    created_at: datetime = Field(sa_column=_timestamp(nullable=False))


class RefreshTokenRow(SQLModel, table=True):
    """A refresh token (stored as a hash), used once: each use replaces it."""

    __tablename__ = "dispatch_refresh_token"

    token_hash: str = Field(primary_key=True)
    username: str = Field(index=True)
    expires_at: datetime = Field(sa_column=_timestamp(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp())


ALL_TABLES.extend([AccountRow, RefreshTokenRow])

# The Core tables, for statements that write many rows without building ORM objects.
TIMER = TimerRow.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
