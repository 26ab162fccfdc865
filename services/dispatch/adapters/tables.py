"""Dispatch's own tables: the roster (grids, members, households, residents, cameras) and cases."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel


def _timestamp(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class GridRow(SQLModel, table=True):
    __tablename__ = "dispatch_grid"

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
    household_id: str | None = None
    grid_id: str | None = Field(default=None, index=True)
    status: str = Field(index=True)
    assignee_id: str | None = Field(default=None, index=True)
    rung: str
    reason: str
    attempt: int = 1
    reported_at: datetime = Field(sa_column=_timestamp(nullable=False))
    assigned_at: datetime = Field(sa_column=_timestamp(nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_column=_timestamp())
    resolved_at: datetime | None = Field(default=None, sa_column=_timestamp())
    result: str | None = None


ROSTER_TABLES: list[type[SQLModel]] = [
    GridRow,
    GridBoundaryRow,
    MemberRow,
    HouseholdRow,
    ResidentRow,
    CameraRow,
]
ALL_TABLES: list[type[SQLModel]] = [*ROSTER_TABLES, CaseRow]
