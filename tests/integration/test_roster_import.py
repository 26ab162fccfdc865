"""Bulk roster import through the running dispatch service, into an empty database."""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import auth
from services.demo.processes import ServiceProcess
from services.dispatch import demo_community
from services.dispatch.roster import csv_format, documents
from services.dispatch.roster.entities import Kind
from tests.support import tokens

DOCUMENT = demo_community.import_document(demo_community.generate())
COUNTS = {
    "grids": "select count(*) from dispatch_grid",
    "boundaries": "select count(*) from dispatch_grid_boundary",
    "party_members": (
        "select count(*) from dispatch_member where role in ('party_member', 'grid_leader')"
    ),
    "members": "select count(*) from dispatch_member",
    "households": "select count(*) from dispatch_household",
    "cameras": "select count(*) from dispatch_camera",
}
DEMO_COUNTS = {
    "grids": 9,
    "boundaries": 9,
    "party_members": 60,
    "members": 67,
    "households": 586,
    "cameras": 27,
}
EMPTY = dict.fromkeys(DEMO_COUNTS, 0)


@pytest.fixture(scope="module")
def dispatch(run_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    """Dispatch alone (no consumer) on an empty database."""
    process = ServiceProcess("dispatch", {**run_env, "DISPATCH_RUN_CONSUMER": "false"}, log_dir)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def client(dispatch: ServiceProcess, run_env: dict[str, str]) -> Iterator[httpx.Client]:
    operator = tokens.headers_for(run_env, "operator", auth.Role.OPERATOR)
    with httpx.Client(base_url=f"{dispatch.url}/v1/roster", headers=operator, timeout=60) as client:
        yield client


async def stored(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            name: (await connection.execute(text(sql))).scalar_one() for name, sql in COUNTS.items()
        }


def csv_of(kind: Kind, rows: list[dict[str, Any]]) -> bytes:
    document = documents.from_json({f"{kind}s": rows})
    assert document.errors == []
    entities = [entity for _, entity in document.entities[kind].values()]
    return csv_format.write(kind, entities).encode()


def post_csv(client: httpx.Client, kind: str, body: bytes, **params: str) -> httpx.Response:
    return client.post(
        f"/import/{kind}", content=body, headers={"content-type": "text/csv"}, params=params
    )


async def test_a_file_with_bad_rows_is_refused_whole_with_every_bad_row(
    client: httpx.Client, engine: AsyncEngine
) -> None:
    broken = copy.deepcopy(DOCUMENT)
    broken["households"][16]["linked_member_id"] = "P010"  # row 17: a member of grid G02
    broken["households"][40]["grid_id"] = "G99"  # row 41
    broken["members"][10]["role"] = "mayor"  # row 11
    broken["cameras"][0]["lat"] = 200  # row 1
    for household in broken["households"][100:102]:  # P001 gets 12 households
        household["linked_member_id"] = "P001"
    del broken["grids"][2]["name"]  # row 3
    response = client.post("/import", json=broken)
    assert response.status_code == 422, response.text
    found = {(e["kind"], e["row"], e["id"], e["field"]) for e in response.json()["errors"]}
    household_17 = broken["households"][16]["id"]
    assert found >= {
        ("grid", 3, "G03", "name"),
        ("member", 11, "P004", "role"),
        ("member", 8, "P001", "linked_households"),
        ("household", 17, household_17, "linked_member_id"),
        ("household", 41, broken["households"][40]["id"], "grid_id"),
        ("camera", 1, "CAM01", "lat"),
    }
    reasons = {e["id"]: e["reason"] for e in response.json()["errors"]}
    assert reasons[household_17] == "linked member P010 belongs to grid G02, household is in G01"
    assert "more than the cap of 10" in reasons["P001"]
    assert await stored(engine) == EMPTY


async def test_the_demo_community_imported_as_csv_has_the_figures_of_the_case_study(
    client: httpx.Client, engine: AsyncEngine
) -> None:
    grids_without_leaders = [
        {**grid, "leader_id": None, "committee_member_id": None} for grid in DOCUMENT["grids"]
    ]
    steps = [
        ("grids", csv_of(Kind.GRID, grids_without_leaders), {"grid": 9}),
        ("members", csv_of(Kind.MEMBER, DOCUMENT["members"]), {"member": 67}),
        ("households", csv_of(Kind.HOUSEHOLD, DOCUMENT["households"]), {"household": 586}),
        ("cameras", csv_of(Kind.CAMERA, DOCUMENT["cameras"]), {"camera": 27}),
    ]
    for kind, body, created in steps:
        response = post_csv(client, kind, body)
        assert response.status_code == 200, response.text
        assert response.json()["created"] == created
    leaders = post_csv(client, "grids", csv_of(Kind.GRID, DOCUMENT["grids"]))
    assert leaders.status_code == 200, leaders.text
    assert leaders.json()["updated"] == {"grid": 9}
    assert await stored(engine) == DEMO_COUNTS
    assert client.get("/households", params={"limit": 1}).headers["x-total-count"] == "586"
    exported = client.get("/export/households")
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content == csv_of(Kind.HOUSEHOLD, DOCUMENT["households"])


async def test_replace_with_json_removes_what_the_file_leaves_out_and_merge_changes_nothing_twice(
    client: httpx.Client, engine: AsyncEngine
) -> None:
    smaller = {**DOCUMENT, "households": DOCUMENT["households"][:500]}
    dry = client.post("/import", json=smaller, params={"mode": "replace", "dry_run": "true"})
    assert dry.status_code == 200, dry.text
    assert dry.json()["deleted"]["household"] == 86
    assert (await stored(engine))["households"] == 586
    replaced = client.post("/import", json=smaller, params={"mode": "replace"})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["deleted"] == {
        "grid": 0,
        "member": 0,
        "household": 86,
        "camera": 0,
        "resident": 0,
    }
    assert replaced.json()["unchanged"]["household"] == 500
    assert (await stored(engine))["households"] == 500
    again = client.post("/import", json=DOCUMENT)
    assert again.json()["created"]["household"] == 86
    assert again.json()["unchanged"] == {"grid": 9, "member": 67, "household": 500, "camera": 27}
    assert await stored(engine) == DEMO_COUNTS


async def test_a_csv_file_with_bad_rows_names_them_and_changes_nothing(
    client: httpx.Client, engine: AsyncEngine
) -> None:
    rows = [dict(household) for household in DOCUMENT["households"][:5]]
    rows[1]["linked_member_id"] = "POL01"
    rows[3]["grid_id"] = "G02"
    body = csv_of(Kind.HOUSEHOLD, rows) + b"H9999,G01,,,,P001,,,,\n"
    response = post_csv(client, "households", body, mode="replace")
    assert response.status_code == 422, response.text
    assert [(e["row"], e["id"], e["field"]) for e in response.json()["errors"]] == [
        (3, rows[1]["id"], "linked_member_id"),
        (5, rows[3]["id"], "linked_member_id"),
        (7, "H9999", "address"),
    ]
    assert await stored(engine) == DEMO_COUNTS


def test_oversized_and_wrongly_typed_uploads_are_refused(client: httpx.Client) -> None:
    huge = b"id,grid_id,place,lat,lon\n" + b"x" * (8 * 1024 * 1024)
    assert post_csv(client, "cameras", huge).status_code == 413
    assert (
        client.post("/import", content=b"{}", headers={"content-type": "text/csv"}).status_code
        == 415
    )
    not_json = client.post(
        "/import", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["errors"][0]["reason"].startswith("not JSON")
    latin = post_csv(
        client, "cameras", "id,grid_id,place,lat,lon\nC1,G01,café,1,2\n".encode("latin-1")
    )
    assert latin.status_code == 422
    assert "UTF-8" in latin.json()["errors"][0]["reason"]
    assert (
        client.post(
            "/import/residents", content=b"", headers={"content-type": "text/csv"}
        ).status_code
        == 422
    )


def test_a_csv_file_in_a_named_charset_is_read_in_that_charset(client: httpx.Client) -> None:
    body = "id,grid_id,place,lat,lon\nCAM90,G01,东门,26.581,106.711\n".encode("gb18030")
    response = client.post(
        "/import/cameras", content=body, headers={"content-type": "text/csv; charset=GB18030"}
    )
    assert response.status_code == 200, response.text
    assert client.get("/cameras/CAM90").json()["place"] == "东门"
