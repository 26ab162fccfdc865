"""The roster admin API through the running dispatch service, on the demo community."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import auth
from services.demo.processes import ServiceProcess
from services.dispatch import demo_community
from tests.support import tokens

COMMUNITY = demo_community.generate()
HOUSEHOLDS = {h.id: h for h in COMMUNITY.households}
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


@pytest.fixture(scope="module")
def dispatch(run_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    """Dispatch alone (no consumer) with the demo community loaded."""
    env = {**run_env, "DISPATCH_RUN_CONSUMER": "false"}
    ServiceProcess("dispatch", env, log_dir, command="load-demo").run_to_completion()
    process = ServiceProcess("dispatch", env, log_dir).start()
    yield process
    process.stop()


@pytest.fixture
def client(dispatch: ServiceProcess, run_env: dict[str, str]) -> Iterator[httpx.Client]:
    operator = tokens.headers_for(run_env, "operator", auth.Role.OPERATOR)
    with httpx.Client(base_url=f"{dispatch.url}/v1/roster", headers=operator, timeout=30) as client:
        yield client


async def linked_member(engine: AsyncEngine, household_id: str) -> tuple[str, str]:
    query = text("select grid_id, linked_member_id from dispatch_household where id = :id")
    async with engine.connect() as connection:
        grid_id, member_id = (await connection.execute(query, {"id": household_id})).one()
    return grid_id, member_id


def test_the_read_routes_of_before_still_answer(client: httpx.Client) -> None:
    grids = client.get("/grids").json()
    assert [g["id"] for g in grids] == [f"G{n:02d}" for n in range(1, 10)]
    assert grids[0]["leader_id"] == "P001" and grids[0]["committee_member_id"] == "C01"
    assert grids[0]["boundary"] == COMMUNITY.grids[0].boundary
    household = client.get("/households/H0001").json()
    assert household["grid_id"] == "G01"
    assert household["linked_member_id"] == HOUSEHOLDS["H0001"].linked_member_id
    assert client.get("/households/H9999").status_code == 404


def test_lists_are_paged_and_filtered(client: httpx.Client) -> None:
    page = client.get("/households", params={"grid_id": "G02", "limit": 5, "offset": 5})
    in_g02 = sorted(h.id for h in COMMUNITY.households if h.grid_id == "G02")
    assert [h["id"] for h in page.json()] == in_g02[5:10]
    assert page.headers["x-total-count"] == str(len(in_g02))
    leaders = client.get("/members", params={"role": "grid_leader"}).json()
    assert [m["id"] for m in leaders] == sorted(g.leader_id for g in COMMUNITY.grids)
    p001 = client.get("/members/P001").json()
    linked = [h for h in COMMUNITY.households if h.linked_member_id == "P001"]
    assert p001["linked_households"] == len(linked)
    legal = client.get("/members", params={"skill": "public_order"}).json()
    assert [m["id"] for m in legal] == ["POL01"]
    assert client.get("/members", params={"role": "mayor"}).status_code == 422
    assert client.get("/cameras", params={"grid_id": "G03"}).headers["x-total-count"] == "3"


def test_create_get_and_update_each_kind(client: httpx.Client) -> None:
    grid = {"id": "G10", "name": "第10网格", "committee_member_id": "C02", "boundary": SQUARE}
    assert client.post("/grids", json=grid).status_code == 201
    member = {"id": "P100", "name": "新党员", "role": "grid_leader", "grid_id": "G10"}
    created = client.post("/members", json={**member, "skills": ["mediation"]})
    assert created.status_code == 201, created.text
    assert created.json()["case_capacity"] == 20 and created.json()["linked_households"] == 0
    household = {"id": "H1000", "grid_id": "G10", "address": "新楼1号", "linked_member_id": "P100"}
    assert client.post("/households", json=household).status_code == 201
    camera = {"id": "CAM100", "grid_id": "G10", "place": "新门", "lat": 0.5, "lon": 0.5}
    assert client.post("/cameras", json=camera).status_code == 201
    assert client.patch("/grids/G10", json={"leader_id": "P100"}).json()["leader_id"] == "P100"
    assert client.patch("/cameras/CAM100", json={"place": "北门"}).json()["place"] == "北门"
    updated = client.patch("/households/H1000", json={"elderly_alone": True})
    assert updated.json()["elderly_alone"] is True
    assert client.get("/households/H1000").json()["address"] == "新楼1号"
    assert client.get("/members/P100").json()["linked_households"] == 1
    assert client.get("/grids/G10").json()["boundary"] == SQUARE


def test_refusals_say_why(client: httpx.Client) -> None:
    duplicate = client.post("/grids", json={"id": "G01", "name": "again"})
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["reason"] == "grid G01 already exists"
    unknown_field = client.post(
        "/cameras",
        json={"id": "C9", "grid_id": "G01", "place": "x", "lat": 1, "lon": 1, "colour": "red"},
    )
    assert unknown_field.status_code == 422
    assert client.patch("/members/P001", json={"nickname": "x"}).status_code == 422
    assert client.patch("/members/P001", json={"name": None}).status_code == 422
    assert client.patch("/members/NOBODY", json={"name": "x"}).status_code == 404
    bad_shape = client.patch(
        "/grids/G01", json={"boundary": {"type": "Polygon", "coordinates": []}}
    )
    assert bad_shape.status_code == 422
    unknown_grid = client.post(
        "/cameras", json={"id": "C9", "grid_id": "G77", "place": "x", "lat": 1, "lon": 1}
    )
    assert unknown_grid.status_code == 409
    assert unknown_grid.json()["errors"] == [
        {
            "kind": "camera",
            "row": None,
            "id": "C9",
            "field": "grid_id",
            "reason": "unknown grid G77",
        }
    ]
    leader = client.patch("/grids/G01", json={"leader_id": "P010"})
    assert leader.status_code == 409
    assert "leader P010 belongs to grid G02, not G01" in leader.json()["detail"]
    committee = client.patch("/grids/G01", json={"committee_member_id": "POL01"})
    assert committee.json()["errors"][0]["reason"] == "member POL01 is police, not committee"
    half_point = client.patch("/households/H0001", json={"lat": None})
    assert half_point.status_code == 422
    assert half_point.json()["errors"][0]["reason"] == "give both lat and lon, or neither"


async def test_moving_a_household_needs_a_new_linked_member_of_its_new_grid(
    client: httpx.Client, engine: AsyncEngine
) -> None:
    household = next(h for h in COMMUNITY.households if h.grid_id == "G01")
    moved = client.patch(f"/households/{household.id}", json={"grid_id": "G02"})
    assert moved.status_code == 409
    reason = moved.json()["errors"][0]["reason"]
    assert (
        reason
        == f"linked member {household.linked_member_id} belongs to grid G01, household is in G02"
    )
    assert await linked_member(engine, household.id) == ("G01", household.linked_member_id)
    room = client.post(
        "/members", json={"id": "P201", "name": "新", "role": "party_member", "grid_id": "G02"}
    )
    assert room.status_code == 201
    relinked = client.patch(
        f"/households/{household.id}", json={"grid_id": "G02", "linked_member_id": "P201"}
    )
    assert relinked.status_code == 200, relinked.text
    assert await linked_member(engine, household.id) == ("G02", "P201")


async def test_members_cannot_strand_their_households(
    client: httpx.Client, engine: AsyncEngine
) -> None:
    member = COMMUNITY.members[10]
    assert member.role == "party_member"
    moved = client.patch(f"/members/{member.id}", json={"grid_id": "G09"})
    assert moved.status_code == 409
    assert all(e["kind"] == "household" for e in moved.json()["errors"])
    police = client.patch(f"/members/{member.id}", json={"role": "police"})
    assert police.status_code == 409
    assert "is police, not a party member" in police.json()["errors"][0]["reason"]
    assert client.get(f"/members/{member.id}").json()["role"] == "party_member"


async def test_linking_respects_the_grid_and_the_cap_even_when_requests_race(
    client: httpx.Client, dispatch: ServiceProcess, engine: AsyncEngine, run_env: dict[str, str]
) -> None:
    assert (
        client.post(
            "/members", json={"id": "P300", "name": "新", "role": "party_member", "grid_id": "G03"}
        ).status_code
        == 201
    )
    elsewhere = next(h.id for h in COMMUNITY.households if h.grid_id == "G04")
    wrong_grid = client.put(f"/households/{elsewhere}/link", json={"linked_member_id": "P300"})
    assert wrong_grid.status_code == 409
    assert client.put("/households/NOPE/link", json={"linked_member_id": "P300"}).status_code == 404
    candidates = sorted(h.id for h in COMMUNITY.households if h.grid_id == "G03")[:15]
    async with httpx.AsyncClient(
        base_url=f"{dispatch.url}/v1/roster",
        headers=tokens.headers_for(run_env, "operator", auth.Role.OPERATOR),
        timeout=30,
    ) as racing:
        answers = await asyncio.gather(
            *(
                racing.put(f"/households/{h}/link", json={"linked_member_id": "P300"})
                for h in candidates
            )
        )
    assert sorted(a.status_code for a in answers) == [200] * 10 + [409] * 5
    refused = next(a for a in answers if a.status_code == 409)
    assert "more than the cap of 10" in refused.json()["errors"][0]["reason"]
    query = text("select count(*) from dispatch_household where linked_member_id = 'P300'")
    async with engine.connect() as connection:
        assert (await connection.execute(query)).scalar_one() == 10


def test_locate_finds_the_grid_and_says_how(client: httpx.Client) -> None:
    household = COMMUNITY.households[300]
    camera = COMMUNITY.cameras[20]
    by_point = client.get("/locate", params={"lat": household.lat, "lon": household.lon})
    assert by_point.json() == {"grid_id": household.grid_id, "how": "boundary"}
    by_household = client.get(
        "/locate", params={"household_id": household.id, "camera_id": camera.id}
    )
    assert by_household.json() == {"grid_id": household.grid_id, "how": "household"}
    by_camera = client.get("/locate", params={"camera_id": camera.id, "lat": 10, "lon": 10})
    assert by_camera.json() == {"grid_id": camera.grid_id, "how": "camera"}
    assert client.get("/locate", params={"household_id": "H9999"}).json() == {
        "grid_id": None,
        "how": "unlocated",
    }
    assert client.get("/locate", params={"lat": 0.5, "lon": 0.5}).json() == {
        "grid_id": "G10",
        "how": "boundary",
    }
    assert client.get("/locate", params={"lat": 1}).status_code == 422


def test_only_operators_change_the_roster_and_the_committee_reads_it(
    dispatch: ServiceProcess, run_env: dict[str, str]
) -> None:
    url = f"{dispatch.url}/v1/roster/grids"
    committee = tokens.headers_for(run_env, "C01", auth.Role.COMMITTEE, member_id="C01")
    leader = tokens.headers_for(
        run_env, "P001", auth.Role.GRID_LEADER, member_id="P001", grid_id="G01"
    )
    officer = tokens.headers_for(run_env, "P002", auth.Role.MEMBER, member_id="P002", grid_id="G01")
    assert httpx.get(url, headers=committee).status_code == 200
    assert httpx.get(url, headers=leader).status_code == 403
    assert httpx.get(url, headers=officer).status_code == 403
    assert httpx.get(url).status_code == 401
    created = httpx.post(url, headers=committee, json={"id": "G99", "name": "x"})
    assert created.status_code == 403
