"""Ledger tables: the append-only entries, and the projections rebuilt from them.

The schema itself is owned by the Alembic migrations in `services/ledger/migrations/`;
these models are how the code reads and writes it (and what autogenerate compares with).
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

TIMESTAMP = DateTime(timezone=True)
HASH = String(64)


class LedgerEntryRow(SQLModel, table=True):
    """One consumed event, written once (unique event id) and never updated or deleted."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("incident_id", "incident_index", name="uq_ledger_entry_incident_index"),
        Index("ix_ledger_entry_recorded_at", "recorded_at"),
    )

    seq: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    event_id: str = Field(sa_type=Text, unique=True)
    incident_id: uuid.UUID
    incident_index: int
    type: str = Field(sa_type=Text)
    source: str = Field(sa_type=Text)
    occurred_at: datetime = Field(sa_type=TIMESTAMP)
    recorded_at: datetime = Field(sa_type=TIMESTAMP)
    payload: dict[str, Any] = Field(sa_type=JSONB)
    prev_hash: str = Field(sa_type=HASH)
    hash: str = Field(sa_type=HASH)
    incident_prev_hash: str = Field(sa_type=HASH)
    incident_hash: str = Field(sa_type=HASH)


def _at() -> Any:
    return Field(default=None, sa_type=TIMESTAMP)


class IncidentStateRow(SQLModel, table=True):
    """The current state of one case (see `domain.state.CaseState`); rebuilt by replay."""

    __tablename__ = "ledger_incident_state"
    # Few indexes and room on each page: most events then update a case in place (HOT),
    # without touching any index. Filters on other columns scan in sort order.
    __table_args__ = (
        Index("ix_ledger_incident_state_sort", "sort_at", "incident_id"),
        Index("ix_ledger_incident_state_members", "member_ids", postgresql_using="gin"),
        Index("ix_ledger_incident_state_external", "source_system", "external_id"),
        Index("ix_ledger_incident_state_place", "place_key", "category", "sort_at"),
        Index("ix_ledger_incident_state_household", "household_id"),
        Index("ix_ledger_incident_state_closed", "first_closed_at"),
        {"postgresql_with": {"fillfactor": "70"}},
    )

    incident_id: uuid.UUID = Field(primary_key=True)
    status: str = Field(sa_type=Text)
    status_note: str | None = Field(default=None, sa_type=Text)
    has_report: bool = False
    category: str | None = Field(default=None, sa_type=Text)
    channel: str | None = Field(default=None, sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)
    address: str | None = Field(default=None, sa_type=Text)
    lat: float | None = None
    lon: float | None = None
    household_id: str | None = Field(default=None, sa_type=Text)
    camera_id: str | None = Field(default=None, sa_type=Text)
    grid_id: str | None = Field(default=None, sa_type=Text)
    place_key: str | None = Field(default=None, sa_type=Text)
    source_system: str | None = Field(default=None, sa_type=Text)
    external_id: str | None = Field(default=None, sa_type=Text)
    reported_by: str | None = Field(default=None, sa_type=Text)
    reporter_phone_masked: str | None = Field(default=None, sa_type=Text)
    reported_at: datetime | None = _at()
    merged_reports: int = 0
    assignee_id: str | None = Field(default=None, sa_type=Text)
    co_handler_ids: list[str] = Field(default_factory=list, sa_type=ARRAY(Text))
    member_ids: list[str] = Field(default_factory=list, sa_type=ARRAY(Text))
    rung: str | None = Field(default=None, sa_type=Text)
    assignment_reason: str | None = Field(default=None, sa_type=Text)
    attempt: int = 0
    linked_member_id: str | None = Field(default=None, sa_type=Text)
    first_assigned_at: datetime | None = _at()
    assigned_at: datetime | None = _at()
    first_acknowledge_due_at: datetime | None = _at()
    acknowledge_due_at: datetime | None = _at()
    resolve_due_at: datetime | None = _at()
    handling_deadline: datetime | None = _at()
    transferred_at: datetime | None = _at()
    escalation_count: int = 0
    acknowledged_at: datetime | None = _at()
    first_resolved_at: datetime | None = _at()
    resolved_at: datetime | None = _at()
    resolved_by: str | None = Field(default=None, sa_type=Text)
    extension_count: int = 0
    first_extended_at: datetime | None = _at()
    parked: bool = False
    parked_at: datetime | None = _at()
    red_stage: str | None = Field(default=None, sa_type=Text)
    first_red_at: datetime | None = _at()
    first_verified_at: datetime | None = _at()
    verified_at: datetime | None = _at()
    verification_passed: bool | None = None
    rating: str | None = Field(default=None, sa_type=Text)
    rated_at: datetime | None = _at()
    first_closed_at: datetime | None = _at()
    closed_at: datetime | None = _at()
    cancelled_at: datetime | None = _at()
    rework_count: int = 0
    first_reopened_at: datetime | None = _at()
    reopened_after_close_at: datetime | None = _at()
    first_seen_at: datetime | None = _at()
    last_occurred_at: datetime | None = _at()
    updated_at: datetime | None = _at()
    event_count: int = 0
    sort_at: datetime = Field(sa_type=TIMESTAMP)


class AnomalyRow(SQLModel, table=True):
    """A recorded event that the case state machine does not allow; rebuilt by replay."""

    __tablename__ = "ledger_anomaly"

    event_id: str = Field(sa_type=Text, primary_key=True)
    kind: str = Field(sa_type=Text, primary_key=True)
    incident_id: uuid.UUID = Field(index=True)
    seq: int = Field(sa_type=BigInteger, index=True)
    event_type: str = Field(sa_type=Text)
    status_before: str = Field(sa_type=Text)
    expected: str = Field(sa_type=Text)
    detail: str = Field(sa_type=Text)
    occurred_at: datetime = Field(sa_type=TIMESTAMP)
    recorded_at: datetime = Field(sa_type=TIMESTAMP)


class RecurrenceRow(SQLModel, table=True):
    """A closed case and the first later report of another case at its place and category.

    Derived from the case states (see `adapters/recurrence.py`), so that 重复发生率 reads one
    row per closure instead of searching the reports; rebuilt by replay.
    """

    __tablename__ = "ledger_recurrence"
    __table_args__ = (
        Index("ix_ledger_recurrence_next", "place_key", "category", "next_report_at"),
    )

    incident_id: uuid.UUID = Field(primary_key=True)
    place_key: str = Field(sa_type=Text)
    category: str = Field(sa_type=Text)
    closed_at: datetime = Field(sa_type=TIMESTAMP)
    next_report_at: datetime | None = _at()


class IndicatorCaseRow(SQLModel, table=True):
    """What the indicators read of one case, and what it counts for once settled.

    Derived from the case state and its recurrence link (see `adapters/indicator_cases.py`)
    and brought up to date before each indicator query. `counted` and the two durations are
    the case's figures as of any moment from `settled_at` on; `came_back_at` is when a
    closure recurred (reopened, or another report at its place within the window). The
    columns every cohort query reads come first.
    """

    __tablename__ = "ledger_indicator_case"
    __table_args__ = (
        Index("ix_ledger_indicator_case_sort", "sort_at"),
        Index("ix_ledger_indicator_case_settled", "settled_at", "sort_at"),
        Index("ix_ledger_indicator_case_closed", "first_closed_at"),
        Index("ix_ledger_indicator_case_members", "member_ids", postgresql_using="gin"),
        Index(
            "ix_ledger_indicator_case_shared",
            "sort_at",
            postgresql_where=text("cardinality(member_ids) > 1"),
        ),
    )

    incident_id: uuid.UUID = Field(primary_key=True)
    sort_at: datetime = Field(sa_type=TIMESTAMP)
    settled_at: datetime = Field(sa_type=TIMESTAMP)
    open_until: datetime = Field(sa_type=TIMESTAMP)  # first resolved or cancelled, or infinity
    counted: int
    assignee_id: str | None = Field(default=None, sa_type=Text)
    grid_id: str | None = Field(default=None, sa_type=Text)
    category: str | None = Field(default=None, sa_type=Text)
    month: int  # of the report, in the community's time zone, as yyyymm
    member_ids: list[str] = Field(default_factory=list, sa_type=ARRAY(Text))
    first_member: str | None = Field(default=None, sa_type=Text)  # member_ids[1]
    acknowledge_s: float | None = None
    resolve_s: float | None = None
    first_closed_at: datetime | None = _at()
    came_back_at: datetime | None = _at()
    reopened_after_close_at: datetime | None = _at()
    cancelled_at: datetime | None = _at()
    first_resolved_at: datetime | None = _at()
    handling_deadline: datetime | None = _at()
    first_assigned_at: datetime | None = _at()
    first_reopened_at: datetime | None = _at()
    first_extended_at: datetime | None = _at()
    acknowledged_at: datetime | None = _at()
    first_acknowledge_due_at: datetime | None = _at()
    first_verified_at: datetime | None = _at()
    verification_passed: bool | None = None
    rating: str | None = Field(default=None, sa_type=Text)
    rated_at: datetime | None = _at()
    transferred_at: datetime | None = _at()
    parked: bool = False
    parked_at: datetime | None = _at()
    first_red_at: datetime | None = _at()
    resolve_due_at: datetime | None = _at()
    household_id: str | None = Field(default=None, sa_type=Text)
    place_key: str | None = Field(default=None, sa_type=Text)


class IndicatorHouseholdRow(SQLModel, table=True):
    """A household with cases: its first report, and each grid's first report (for coverage)."""

    __tablename__ = "ledger_indicator_household"

    household_id: str = Field(sa_type=Text, primary_key=True)
    first_reported_at: datetime = Field(sa_type=TIMESTAMP)
    grid_ids: list[str] = Field(default_factory=list, sa_type=ARRAY(Text))
    grid_since: list[datetime] = Field(default_factory=list, sa_type=ARRAY(TIMESTAMP))


class IndicatorLinkRow(SQLModel, table=True):
    """A household's linked member (1+10) and when they resolved or reported its cases."""

    __tablename__ = "ledger_indicator_link"

    household_id: str = Field(sa_type=Text, primary_key=True)
    member_id: str = Field(sa_type=Text, primary_key=True)
    visited_at: list[datetime] = Field(default_factory=list, sa_type=ARRAY(TIMESTAMP))


class IndicatorSyncRow(SQLModel, table=True):
    """How far the indicator rows follow the ledger: every entry up to `seq` is in them,
    derived on `basis` (a digest of the derivation, its settings and the session time zone)."""

    __tablename__ = "ledger_indicator_sync"

    basis: str = Field(sa_type=Text, primary_key=True)
    seq: int = Field(sa_type=BigInteger)


ENTRY = LedgerEntryRow.__table__  # type: ignore[attr-defined]
STATE = IncidentStateRow.__table__  # type: ignore[attr-defined]
ANOMALY = AnomalyRow.__table__  # type: ignore[attr-defined]
RECURRENCE = RecurrenceRow.__table__  # type: ignore[attr-defined]
INDICATOR_CASE = IndicatorCaseRow.__table__  # type: ignore[attr-defined]
INDICATOR_HOUSEHOLD = IndicatorHouseholdRow.__table__  # type: ignore[attr-defined]
INDICATOR_LINK = IndicatorLinkRow.__table__  # type: ignore[attr-defined]
INDICATOR_SYNC = IndicatorSyncRow.__table__  # type: ignore[attr-defined]
PROJECTION_TABLES = (STATE, ANOMALY, RECURRENCE)
