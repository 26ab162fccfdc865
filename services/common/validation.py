"""Request refusals shaped like FastAPI's own 422, so every 422 matches the documented schema."""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# A JSON string's escaped NUL: `\u0000` after an even number of backslashes (none included).
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# A surrogate's escape: paired, json.loads joins it with its partner; alone, UTF-8 cannot hold it.
JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
NUL_REFUSED = "NUL characters are not allowed"
SURROGATE_REFUSED = "unpaired surrogate characters are not allowed"


def invalid(where: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 naming the parameter(s) at fault, for rules one field's type cannot express."""
    return RequestValidationError([{"type": "value_error", "loc": where, "msg": message}])


async def refuse_unstorable_text(request: Request) -> None:
    """PostgreSQL cannot store or compare text with NUL in it, nor UTF-8 encode an unpaired
    surrogate: a query or a body holding one is refused (422) before it reaches the database."""
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise invalid(("query", name), NUL_REFUSED)
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if request.headers.get("content-type", "").startswith(FORMS):
        for field, given in (await request.form()).multi_items():
            if "\x00" in field or (isinstance(given, str) and "\x00" in given):
                raise invalid(("body", field), NUL_REFUSED)
        return
    body = await request.body()  # kept by the request: the route reads the same bytes
    if b"\x00" in body or (b"\\u0000" in body and JSON_NUL.search(body)):
        raise invalid(("body",), NUL_REFUSED)
    if JSON_SURROGATE.search(body) and _holds_unpaired_surrogate(body):
        raise invalid(("body",), SURROGATE_REFUSED)


def _holds_unpaired_surrogate(body: bytes) -> bool:
    try:
        document = json.loads(body)
    except ValueError:
        return False  # not JSON: the route's own parsing refuses it
    for text in _texts(document):
        try:
            text.encode()
        except UnicodeEncodeError:
            return True
    return False


def _texts(value: Any) -> Iterator[str]:
    """Every string of a decoded JSON document, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def comparable_instant(value: datetime) -> datetime:
    """A time the database can compare with: one whose offset takes it outside years 1–9999
    in UTC is refused (422) instead of failing the query."""
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError as error:
            raise ValueError("the time is out of range once converted to UTC") from error
    return value


Instant = Annotated[datetime, AfterValidator(comparable_instant)]
