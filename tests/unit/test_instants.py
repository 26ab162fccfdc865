"""A time whose offset takes it before year 1 in UTC is refused with 422, not a 500 from the
database; an ordinary time passes unchanged."""

import httpx
from fastapi import FastAPI

from services.common import validation

app = FastAPI()


@app.get("/since")
def since(updated_since: validation.Instant | None = None) -> dict[str, str]:
    return {"updated_since": str(updated_since)}


async def answer(value: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/since", params={"updated_since": value})


async def test_a_time_out_of_range_in_utc_is_refused() -> None:
    response = await answer("0001-01-01T00:00:01+00:01")
    assert response.status_code == 422
    assert "out of range" in response.text


async def test_an_ordinary_time_passes_unchanged() -> None:
    response = await answer("2026-01-01T00:00:01+08:00")
    assert response.json() == {"updated_since": "2026-01-01 00:00:01+08:00"}
