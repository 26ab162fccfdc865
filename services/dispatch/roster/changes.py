"""What an import or an edit would do to the roster, and which rows break which rule. Pure."""

from dataclasses import dataclass, field
from enum import StrEnum

from services.dispatch.roster import documents, invariants
from services.dispatch.roster.entities import DEFAULT_HOUSEHOLD_CAP, Entity, Kind, Roster


class Mode(StrEnum):
    MERGE = "merge"  # add new ids, replace the rows of the ids the file gives, keep the rest
    REPLACE = "replace"  # each kind the file gives becomes exactly the file's rows


@dataclass
class Plan:
    """The roster after the change, and the entities to write or remove to get there."""

    roster: Roster
    created: dict[Kind, list[Entity]] = field(default_factory=dict)
    updated: dict[Kind, list[Entity]] = field(default_factory=dict)
    unchanged: dict[Kind, int] = field(default_factory=dict)
    deleted: dict[Kind, list[str]] = field(default_factory=dict)


def plan(existing: Roster, document: documents.Document, *, mode: Mode) -> Plan:
    """The roster the document would leave behind, with what is created, updated and deleted."""
    result = Plan(roster=existing)
    for kind, rows in document.entities.items():
        before = existing.of_kind(kind)
        incoming = {entity_id: entity for entity_id, (_, entity) in rows.items()}
        after = {**before, **incoming} if mode is Mode.MERGE else incoming
        result.roster = result.roster.with_kind(kind, after)
        result.created[kind] = [e for i, e in incoming.items() if i not in before]
        result.updated[kind] = [e for i, e in incoming.items() if i in before and before[i] != e]
        result.unchanged[kind] = sum(1 for i, e in incoming.items() if before.get(i) == e)
        result.deleted[kind] = sorted(set(before) - set(after))
    return result


def problems(
    planned: Plan, document: documents.Document, *, household_cap: int = DEFAULT_HOUSEHOLD_CAP
) -> list[documents.RowProblem]:
    """Every bad row: those the file could not give, then every invariant the result breaks."""
    broken = [
        documents.RowProblem(
            kind=problem.kind,
            row=document.row_of(problem.kind, problem.id),
            id=problem.id,
            field=problem.field,
            reason=problem.reason,
        )
        for problem in invariants.problems(planned.roster, household_cap=household_cap)
    ]
    order = ["document", *Kind]
    return sorted(
        [*document.errors, *broken],
        key=lambda p: (order.index(p.kind), p.row is None, p.row or 0, p.id or ""),
    )
