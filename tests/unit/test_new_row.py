"""`database.new_row` builds the same row as a table model's constructor, only cheaper."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect

from services.common import database
from services.dispatch.adapters.tables import CaseRow, MemberRow

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


def case_values() -> dict[str, Any]:
    return {
        "incident_id": uuid.uuid4(),
        "category": "neighbour_dispute",
        "channel": "hotline",
        "description": "楼道堆物",
        "household_id": "H0001",
        "status": "reported",
        "rung": "linked_member",
        "reason": "",
        "attempt": 0,
        "reported_at": NOW,
        "assigned_at": NOW,
    }


def test_a_new_row_equals_the_constructed_one_defaults_included() -> None:
    values = case_values()
    assert database.new_row(CaseRow, **values).model_dump() == CaseRow(**values).model_dump()
    member: dict[str, Any] = {
        "id": "P001",
        "name": "张三",
        "role": "party_member",
        "grid_id": "G01",
    }
    assert database.new_row(MemberRow, **member).model_dump() == MemberRow(**member).model_dump()


def test_mutable_defaults_are_fresh_for_each_row() -> None:
    first, second = (database.new_row(CaseRow, **case_values()) for _ in range(2))
    first.co_handler_ids.append("POL01")
    assert second.co_handler_ids == []
    assert first.declined_by is not second.declined_by


def test_a_new_row_is_transient_and_tracks_later_changes() -> None:
    row = database.new_row(CaseRow, **case_values())
    state = inspect(row)
    assert state.transient
    row.status = "assigned"
    assert state.attrs.status.history.added == ["assigned"]
    assert row.model_fields_set >= {"incident_id", "status"}
