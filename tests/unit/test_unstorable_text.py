"""Text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (an unpaired surrogate) is refused."""

import pytest
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request

from services.common.validation import refuse_unstorable_text


def request(body: bytes, *, content_type: str = "application/json", query: bytes = b"") -> Request:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": query,
        "headers": [(b"content-type", content_type.encode())],
    }
    return Request(scope, receive)


async def refusal(given: Request) -> str | None:
    try:
        await refuse_unstorable_text(given)
    except RequestValidationError as error:
        return str(error.errors()[0]["msg"])
    return None


@pytest.mark.parametrize(
    "body",
    [
        rb'{"name": "a\u0000b"}',
        rb'{"name": "a\\\u0000b"}',  # an escaped backslash, then the NUL
        rb'{"a\u0000": 1}',
        b'{"name": "raw \x00"}',
        b"id,name\nP1,a\x00b\n",
    ],
)
async def test_nul_anywhere_in_a_body_is_refused(body: bytes) -> None:
    assert await refusal(request(body)) == "NUL characters are not allowed"


async def test_nul_in_a_form_or_a_query_is_refused() -> None:
    form = request(b"username=a%00b&password=x", content_type="application/x-www-form-urlencoded")
    assert await refusal(form) == "NUL characters are not allowed"
    assert (
        await refusal(request(b"{}", query=b"grid_id=G%0001")) == "NUL characters are not allowed"
    )


async def test_an_unpaired_surrogate_is_refused_and_a_pair_is_not() -> None:
    refused = await refusal(request(rb'{"name": ["x", {"y": "lone \ud800 here"}]}'))
    assert refused == "unpaired surrogate characters are not allowed"
    assert await refusal(request(rb'{"name": "paired \ud83d\ude00"}')) is None


async def test_text_that_only_looks_like_an_escape_passes() -> None:
    assert await refusal(request(rb'{"name": "a literal \\u0000 and \\ud800"}')) is None
    assert await refusal(request(b'{"name": "\xe7\xbd\x91\xe6\xa0\xbc"}')) is None
