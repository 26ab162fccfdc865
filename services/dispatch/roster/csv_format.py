"""Roster CSV files, one kind per file: reading them into a Document, and writing them. Pure.

Columns are the fields of the kind (`COLUMNS`); an empty cell means the field's default. Skills
are separated by `;`. A grid's boundary is a GeoJSON geometry written as JSON in one cell.
"""

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from services.dispatch.roster import convert, documents
from services.dispatch.roster.entities import Entity, Kind

COLUMNS: dict[Kind, tuple[str, ...]] = {
    Kind.GRID: ("id", "name", "leader_id", "committee_member_id", "boundary"),
    Kind.MEMBER: ("id", "name", "role", "grid_id", "skills", "case_capacity"),
    Kind.HOUSEHOLD: (
        "id",
        "grid_id",
        "address",
        "village",
        "village_group",
        "linked_member_id",
        "lat",
        "lon",
        "elderly_alone",
        "disabled",
    ),
    Kind.CAMERA: ("id", "grid_id", "place", "lat", "lon"),
}
SKILL_SEPARATOR = ";"


def required_columns(kind: Kind) -> list[str]:
    """The columns a file of this kind must have."""
    fields = convert.CREATE_MODELS[kind].model_fields
    return [name for name in COLUMNS[kind] if fields[name].is_required()]


def parse(kind: Kind, text: str) -> documents.Document:
    """Read a CSV file of one kind; every bad row is reported with its spreadsheet row number."""
    document = documents.Document(entities={kind: {}})
    records = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0  # the last row read whole
    try:
        header = [name.strip() for name in next(records, [])]
        number = 1
        if not _header_is_usable(document, kind, header):
            return document
        for number, cells in enumerate(records, start=2):
            if any(cell.strip() for cell in cells):
                _read_record(document, kind, number, header, cells)
            if number - 1 > documents.MAX_ROWS:
                reason = f"more than {documents.MAX_ROWS} rows"
                document.errors.append(documents.RowProblem(kind, number, None, None, reason))
                break
    except csv.Error as broken:
        reason = f"not readable as CSV: {broken}"
        document.errors.append(documents.RowProblem(kind, number + 1, None, None, reason))
    return document


def _header_is_usable(document: documents.Document, kind: Kind, header: list[str]) -> bool:
    def problem(column: str | None, reason: str) -> None:
        document.errors.append(documents.RowProblem(kind, 1, None, column, reason))

    if not any(header):
        problem(
            None, f"the file is empty; the first row names the columns: {','.join(COLUMNS[kind])}"
        )
        return False
    seen: set[str] = set()
    for column in header:
        if column not in COLUMNS[kind]:
            problem(column, f"unknown column; expected some of {','.join(COLUMNS[kind])}")
        elif column in seen:
            problem(column, "column given twice")
        seen.add(column)
    for column in required_columns(kind):
        if column not in header:
            problem(column, "required column missing")
    return not document.errors


def _read_record(
    document: documents.Document, kind: Kind, number: int, header: list[str], cells: list[str]
) -> None:
    if len(cells) > len(header):
        row_id = cells[0].strip() if header[0] == "id" else None
        reason = f"{len(cells)} cells but the header names {len(header)} columns"
        document.errors.append(documents.RowProblem(kind, number, row_id, None, reason))
        return
    row: dict[str, Any] = {
        column: cell.strip() for column, cell in zip(header, cells, strict=False) if cell.strip()
    }
    if "skills" in row:
        row["skills"] = [skill.strip() for skill in row["skills"].split(SKILL_SEPARATOR)]
    if "boundary" in row:
        try:
            row["boundary"] = json.loads(row["boundary"])
        except json.JSONDecodeError as bad:
            reason = f"not JSON: {bad.msg} at character {bad.pos}"
            document.errors.append(
                documents.RowProblem(kind, number, row.get("id"), "boundary", reason)
            )
            return
    documents.read_row(document, kind, number, row)


def write(kind: Kind, entities: Iterable[Entity]) -> str:
    """A CSV file of these entities, which `parse` reads back into the same entities."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS[kind])
    for entity in entities:
        values = convert.record(entity)
        writer.writerow(_cell(name, values.get(name)) for name in COLUMNS[kind])
    return out.getvalue()


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "skills":
        return SKILL_SEPARATOR.join(value)
    if name == "boundary":
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
