"""The report route's own body parsing answers as a FastAPI body parameter would."""

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from services.intake.api import json_body
from services.intake.reports.schemas import IncidentCreate

VALID = {
    "channel": "hotline",
    "category": "clutter",
    "description": "clutter on the stairs",
    "household_id": "H0001",
}
JSON = {"content-type": "application/json"}


def client() -> httpx.AsyncClient:
    app = FastAPI()

    @app.post("/framework")
    async def framework(body: IncidentCreate) -> dict[str, str]:
        return {"category": body.category}

    @app.post("/own")
    async def own(request: Request) -> dict[str, str]:
        body = await json_body.parse(request, IncidentCreate)
        return {"category": body.category}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://parse")


async def answers(body: bytes, headers: dict[str, str]) -> tuple[Any, Any]:
    async with client() as http:
        framework = await http.post("/framework", content=body, headers=headers)
        own = await http.post("/own", content=body, headers=headers)
    return framework, own


def locations(response: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(problem["loc"]) for problem in response.json()["detail"])


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (json.dumps(VALID).encode(), JSON),
        (json.dumps(VALID).encode(), {"content-type": "application/json; charset=utf-8"}),
        (json.dumps(VALID).encode(), {"content-type": "application/merge-patch+json"}),
        (json.dumps(VALID).encode(), {"content-type": "text/plain"}),
        (json.dumps(VALID).encode(), {}),
        (b"", JSON),
        (b"{not json", JSON),
        (b"\xff\xfe\xfa", JSON),
        (b"[1, 2]", JSON),
        (b"null", JSON),
        (json.dumps({**VALID, "channel": "carrier_pigeon", "extra": 1}).encode(), JSON),
        (json.dumps({**VALID, "household_id": None}).encode(), JSON),
        (json.dumps({**VALID, "location": {"lat": 123, "lon": 0}}).encode(), JSON),
        (json.dumps({**VALID, "category": "ufo_sighting"}).encode(), JSON),
    ],
)
async def test_answers_with_the_status_and_locations_fastapi_gives(
    body: bytes, headers: dict[str, str]
) -> None:
    framework, own = await answers(body, headers)
    assert own.status_code == framework.status_code
    if framework.status_code == 422:
        assert locations(own) == locations(framework)
        kinds = {problem["type"] for problem in own.json()["detail"]}
        assert kinds <= {problem["type"] for problem in framework.json()["detail"]} | {
            "model_type"  # pydantic's JSON mode names a non-object body so
        }
    else:
        assert own.json() == framework.json()


async def test_a_json_decode_error_says_where() -> None:
    _, own = await answers(b'{"channel": }', JSON)
    problem = own.json()["detail"][0]
    assert problem["type"] == "json_invalid"
    assert problem["loc"] == ["body", 12]
