"""Opaque page cursors: the position of the last row, base64url-encoded JSON."""

import base64
import binascii
import json
import uuid
from datetime import datetime

from services.common import validation

INVALID = validation.invalid(("query", "cursor"), "invalid cursor: use next_cursor as given")


def encode(values: list[str | int]) -> str:
    """A cursor for a position (a list of JSON scalars)."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode(cursor: str) -> list[str | int]:
    """The position a cursor holds; 422 when it was not made here."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise INVALID from error
    if not isinstance(values, list):
        raise INVALID
    return values


def case_position(cursor: str) -> tuple[datetime, uuid.UUID]:
    """(sort_at, incident_id) from a case-list cursor."""
    values = decode(cursor)
    try:
        sort_at, incident_id = values
        return datetime.fromisoformat(str(sort_at)), uuid.UUID(str(incident_id))
    except ValueError as error:
        raise INVALID from error


def case_cursor(position: tuple[datetime, uuid.UUID] | None) -> str | None:
    """The cursor of the next case page, or None at the end."""
    if position is None:
        return None
    return encode([position[0].isoformat(), str(position[1])])
