"""Roster use cases: create, update, link and import, each checked against the whole roster.

Every write takes the roster lock, loads the roster, plans the change, checks every invariant on
the result and writes only when nothing breaks, all in one transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.roster import changes, convert, documents, repository
from services.dispatch.roster.entities import KIND_OF, Entity, Kind, Roster


class NotFound(Exception):
    """No roster entity of that kind has that id."""

    def __init__(self, kind: Kind, entity_id: str) -> None:
        super().__init__(f"no such {kind}: {entity_id}")


class Refused(Exception):
    """The change would break an invariant or reuse an id (nothing was written)."""

    def __init__(self, problems: list[documents.RowProblem]) -> None:
        super().__init__("; ".join(f"{p.kind} {p.id}: {p.reason}" for p in problems))
        self.problems = problems


class Invalid(Exception):
    """The request, or the file, has bad rows (nothing was written)."""

    def __init__(self, problems: list[documents.RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was written")
        self.problems = problems


@dataclass(frozen=True)
class ImportSummary:
    mode: changes.Mode
    dry_run: bool
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    deleted: dict[str, int]


async def create(*, session: AsyncSession, entity: Entity, household_cap: int) -> Entity:
    """Add a new grid, member, household or camera."""
    kind = KIND_OF[type(entity)]
    existing = await _locked_roster(session)
    if entity.id in existing.of_kind(kind):
        reason = f"{kind} {entity.id} already exists"
        raise Refused([documents.RowProblem(kind, None, entity.id, "id", reason)])
    await _save(session, existing, entity, household_cap=household_cap)
    return entity


async def update(
    *,
    session: AsyncSession,
    kind: Kind,
    entity_id: str,
    change: Callable[[Entity], Entity],
    household_cap: int,
) -> Entity:
    """Change one entity; `change` gets the current entity and returns the new one."""
    existing = await _locked_roster(session)
    current = existing.of_kind(kind).get(entity_id)
    if current is None:
        raise NotFound(kind, entity_id)
    entity = change(current)
    try:
        convert.record(entity)  # the result must still be a valid row of its kind
    except ValidationError as invalid:
        raise Invalid(_field_problems(kind, entity_id, invalid)) from invalid
    await _save(session, existing, entity, household_cap=household_cap)
    return entity


async def import_document(
    *,
    session: AsyncSession,
    document: documents.Document,
    mode: changes.Mode,
    dry_run: bool,
    household_cap: int,
) -> ImportSummary:
    """Check the whole file against the roster it would leave; apply all of it or nothing."""
    existing = await _locked_roster(session)
    planned = changes.plan(existing, document, mode=mode)
    problems = changes.problems(planned, document, household_cap=household_cap)
    if problems:
        raise Invalid(problems)
    gone = planned.deleted.get(Kind.HOUSEHOLD, [])
    if dry_run:
        residents = await repository.count_residents(session=session, household_ids=gone)
    else:
        residents = await repository.apply(session=session, plan=planned)
        await session.commit()
    deleted = {str(kind): len(ids) for kind, ids in planned.deleted.items()}
    if gone or residents:
        deleted["resident"] = residents
    return ImportSummary(
        mode=mode,
        dry_run=dry_run,
        created={str(kind): len(items) for kind, items in planned.created.items()},
        updated={str(kind): len(items) for kind, items in planned.updated.items()},
        unchanged={str(kind): count for kind, count in planned.unchanged.items()},
        deleted=deleted,
    )


async def _locked_roster(session: AsyncSession) -> Roster:
    await repository.lock(session=session)
    return await repository.load(session=session)


async def _save(
    session: AsyncSession, existing: Roster, entity: Entity, *, household_cap: int
) -> None:
    document = documents.single(entity)
    planned = changes.plan(existing, document, mode=changes.Mode.MERGE)
    problems = changes.problems(planned, document, household_cap=household_cap)
    if problems:
        raise Refused(problems)
    await repository.apply(session=session, plan=planned)
    await session.commit()


def _field_problems(
    kind: Kind, entity_id: str, invalid: ValidationError
) -> list[documents.RowProblem]:
    return [
        documents.RowProblem(
            kind,
            None,
            entity_id,
            ".".join(str(part) for part in error["loc"]) or None,
            documents.reason_of(error),
        )
        for error in invalid.errors()
    ]
