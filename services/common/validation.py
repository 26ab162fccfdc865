"""Request refusals shaped like FastAPI's own 422, so every 422 matches the documented schema."""

from fastapi import Request
from fastapi.exceptions import RequestValidationError


def invalid(where: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 naming the parameter(s) at fault, for rules one field's type cannot express."""
    return RequestValidationError([{"type": "value_error", "loc": where, "msg": message}])


async def refuse_nul_in_query(request: Request) -> None:
    """PostgreSQL cannot store or compare text with NUL in it: such a query is refused (422)."""
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise invalid(("query", name), "NUL characters are not allowed")
