"""An import file read into entities, with every row that could not be read and why. Pure.

Rows are numbered from 1 within each kind's list of a JSON document; CSV rows are numbered as
a spreadsheet shows them (the header is row 1, so the first record is row 2).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.dispatch.roster import convert
from services.dispatch.roster.entities import KIND_OF, Entity, Kind

DOCUMENT_KEYS: dict[str, Kind] = {
    "grids": Kind.GRID,
    "members": Kind.MEMBER,
    "households": Kind.HOUSEHOLD,
    "cameras": Kind.CAMERA,
}
MAX_ROWS = 20_000  # per kind and file


@dataclass(frozen=True)
class RowProblem:
    """One bad row; `row` is None for the file as a whole or for a stored entity it breaks."""

    kind: str
    row: int | None
    id: str | None
    field: str | None
    reason: str


@dataclass
class Document:
    """The kinds a file gives: by kind, id → (row, entity) for the rows that read well."""

    entities: dict[Kind, dict[str, tuple[int | None, Entity]]] = field(default_factory=dict)
    errors: list[RowProblem] = field(default_factory=list)

    def add(self, kind: Kind, row: int | None, entity: Entity) -> None:
        """Keep the entity, or report it when its id already came earlier in the file."""
        rows = self.entities.setdefault(kind, {})
        if entity.id in rows:
            first = rows[entity.id][0]
            reason = f"duplicate id {entity.id} (first on row {first})"
            self.errors.append(RowProblem(kind, row, entity.id, "id", reason))
        else:
            rows[entity.id] = (row, entity)

    def row_of(self, kind: Kind, entity_id: str) -> int | None:
        """Where the file gives this entity (None when it does not)."""
        found = self.entities.get(kind, {}).get(entity_id)
        return found[0] if found else None


def single(entity: Entity) -> Document:
    """A document of one entity, for the admin API's create and update."""
    document = Document()
    document.add(KIND_OF[type(entity)], None, entity)
    return document


def from_json(payload: Any) -> Document:
    """Read `{"grids": [...], "members": [...], "households": [...], "cameras": [...]}`."""
    document = Document()
    if not isinstance(payload, dict):
        document.errors.append(RowProblem("document", None, None, None, "expected a JSON object"))
        return document
    for key, rows in payload.items():
        kind = DOCUMENT_KEYS.get(key)
        if kind is None:
            known = ", ".join(DOCUMENT_KEYS)
            reason = f"unknown key {key!r}; expected some of {known}"
            document.errors.append(RowProblem("document", None, None, key, reason))
        elif rows is None:
            continue  # null: the kind is not given, as if the key were absent
        elif not isinstance(rows, list):
            document.errors.append(RowProblem(kind, None, None, None, f"{key} must be a list"))
        elif len(rows) > MAX_ROWS:
            reason = f"{len(rows)} rows; at most {MAX_ROWS} per kind"
            document.errors.append(RowProblem(kind, None, None, None, reason))
        else:
            document.entities.setdefault(kind, {})
            for number, row in enumerate(rows, start=1):
                read_row(document, kind, number, row)
    return document


def read_row(document: Document, kind: Kind, number: int, row: Any) -> None:
    """Validate one row against its XCreate model; keep the entity or report every bad field."""
    if not isinstance(row, Mapping):
        document.errors.append(RowProblem(kind, number, None, None, "a row must be an object"))
        return
    row_id = row.get("id") if isinstance(row.get("id"), str) else None
    try:
        model = convert.CREATE_MODELS[kind].model_validate(row)
    except ValidationError as invalid:
        for error in invalid.errors():
            where = ".".join(str(part) for part in error["loc"]) or None
            document.errors.append(RowProblem(kind, number, row_id, where, reason_of(error)))
        return
    document.add(kind, number, convert.entity_from(model))


def reason_of(error: Mapping[str, Any]) -> str:
    """A pydantic error in the words of an import report."""
    if error["type"] == "missing":
        return "required"
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return str(error["msg"]).removeprefix("Value error, ")
