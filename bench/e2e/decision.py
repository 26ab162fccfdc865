"""Dispatch's decision time, demo community against a generated city (scale check).

Times the assignment path exactly as dispatch runs it for a report: locate the household
(or the point) → the grid's team and live state → the pure policy and the co-handlers, in a
transaction that is rolled back. Each community lives in a scratch database, dropped after.
"""

import random
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.e2e import city, ladder
from services.common import database, events
from services.dispatch import demo_community
from services.dispatch.adapters import roster_repo, tables
from services.dispatch.adapters.live_state import LiveState
from services.dispatch.bootstrap import load_catalogue
from services.dispatch.cases import assignment
from services.dispatch.cases.work import CaseWork, Dependencies
from services.dispatch.domain import policy
from services.dispatch.settings import DispatchSettings
from tests.support import runs, stack

# The household kinds of the demo feeder, in their proportions (services/demo/incidents.py).
HOUSEHOLD_CATEGORIES = (
    ["neighbour_dispute"] * 14
    + ["family_dispute"] * 5
    + ["paperwork_service"] * 12
    + ["employment_service", "home_service"] * 6
    + ["fraud_prevention"] * 3
)
POINT_CATEGORIES = ("illegal_construction", "clutter", "garden_encroachment", "wall_seepage")
Populate = Callable[[AsyncEngine], Awaitable[None]]
Place = tuple[str | None, events.GeoPoint | None]


@dataclass
class Community:
    """One roster to decide over, and how to pick a household or a point in it."""

    name: str
    populate: Populate
    household_at: Callable[[random.Random], str]
    point_at: Callable[[random.Random], tuple[float, float]]


def communities() -> list[Community]:
    """The demo community and the generated city."""
    demo = demo_community.generate()
    households = [household.id for household in demo.households]
    return [
        Community(
            "demo",
            _load_demo,
            lambda rng: rng.choice(households),
            lambda rng: _demo_point(demo, rng),
        ),
        Community(
            "city",
            city.generate,
            lambda rng: city.household_id(rng.randint(1, city.GRIDS * city.HOUSEHOLDS_PER_GRID)),
            lambda rng: city.point_in_grid(rng.randint(1, city.GRIDS)),
        ),
    ]


async def compare(*, incidents: int, seed: int = 11, chunk: int = 50) -> dict[str, Any]:
    """Median and p99 decision time in the demo community and in the city, and their ratios.

    Both rosters are built first; then the two are timed in turn, `chunk` decisions at a time,
    so that both meet the same load from anything else running on the machine.
    """
    generator = random.Random(seed)
    samples: dict[str, list[float]] = defaultdict(list)
    async with AsyncExitStack() as stack_of_rosters:
        ready = []
        for community in communities():
            deps = await stack_of_rosters.enter_async_context(_roster(community))
            ready.append((community, deps))
        for community, deps in ready:  # warm the pools and the caches
            await _time_all(deps, [(community.household_at(generator), None)] * 50)
        for _ in range(0, incidents, chunk):
            for community, deps in ready:
                places: list[Place] = [
                    (community.household_at(generator), None) for _ in range(chunk)
                ]
                points: list[Place] = [
                    (None, events.GeoPoint(lat=lat, lon=lon))
                    for lat, lon in (community.point_at(generator) for _ in range(chunk // 4))
                ]
                samples[community.name] += await _time_all(deps, places)
                samples[f"point_{community.name}"] += await _time_all(deps, points)
    figures: dict[str, Any] = {}
    for label in ("", "point_"):
        for name in ("demo", "city"):
            figures[f"decision_{label}ms_p50_{name}"] = ladder.percentile_ms(
                samples[label + name], 0.5
            )
            figures[f"decision_{label}ms_p99_{name}"] = ladder.percentile_ms(
                samples[label + name], 0.99
            )
        demo_p50 = figures[f"decision_{label}ms_p50_demo"]
        figures[f"decision_{label}city_vs_demo"] = round(
            figures[f"decision_{label}ms_p50_city"] / demo_p50, 2
        )
    figures["decision_incidents"] = incidents
    figures["decision_city"] = {
        "grids": city.GRIDS,
        "party_members": city.GRIDS * city.MEMBERS_PER_GRID,
        "households": city.GRIDS * city.HOUSEHOLDS_PER_GRID,
    }
    return figures


@asynccontextmanager
async def _roster(community: Community) -> AsyncIterator[Dependencies]:
    """A scratch database holding the community's roster, and dispatch's dependencies on it."""
    infra = stack.stack_env()
    name = f"gridloop_bench_roster_{uuid.uuid4().hex[:10]}"
    url = await stack.create_database(infra["DATABASE_URL"], name)
    engine = database.create_engine(url, pool_size=2)
    redis = Redis.from_url(infra["REDIS_URL"])
    namespace = f":bench{uuid.uuid4().hex[:10]}"
    try:
        started = time.perf_counter()
        await database.create_tables(engine, tables.ALL_TABLES)
        await community.populate(engine)
        print(
            f"decision {community.name}: roster ready in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        yield Dependencies(
            sessions=database.session_maker(engine),
            live=LiveState(redis, namespace=namespace),
            publisher=cast(Any, None),  # never reached: nothing is published
            lifecycle_topic="",
            catalogue=load_catalogue(DispatchSettings()),
            schedule=cast(Any, None),
            confirmations=cast(Any, None),
        )
    finally:
        await engine.dispose()
        await runs.remove_namespace(infra["REDIS_URL"], namespace)
        await redis.aclose()
        await stack.drop_database(infra["DATABASE_URL"], name)


async def _time_all(deps: Dependencies, places: list[Place]) -> list[float]:
    generator = random.Random(len(places))
    categories = HOUSEHOLD_CATEGORIES if places and places[0][0] else list(POINT_CATEGORIES)
    return [await _decide(deps, place, generator.choice(categories)) for place in places]


async def _decide(deps: Dependencies, place: Place, category: str) -> float:
    """Seconds from a report to its decision, through dispatch's own functions."""
    household_id, location = place
    now = datetime.now(UTC)
    report = events.IncidentReported(
        incident_id=uuid.uuid4(),
        occurred_at=now,
        channel=events.Channel.HOTLINE,
        category=category,
        description="bench",
        household_id=household_id,
        location=location,
    )
    case = tables.CaseRow(
        incident_id=report.incident_id,
        category=category,
        channel=report.channel.value,
        household_id=household_id,
        status=events.CaseStatus.REPORTED.value,
        rung=events.Rung.LINKED_MEMBER.value,
        reason="",
        attempt=0,
        reported_at=now,
        assigned_at=now,
    )
    async with deps.sessions() as session, session.begin():
        started = time.perf_counter()
        work = CaseWork(deps=deps, session=session, case=case, now=now)
        case.grid_id = await assignment.locate(report, session=session)
        situation, team, officers = await assignment.situation_of(work)
        decision = policy.choose_assignee(situation, team, officers)
        policy.choose_helpers(
            work.rules.co_handler_roles, officers, exclude=[decision.assignee_id or ""]
        )
        elapsed = time.perf_counter() - started
        assert decision.assignee_id is not None, decision.reason
        await session.rollback()
    return elapsed


async def _load_demo(engine: AsyncEngine) -> None:
    async with database.session_maker(engine)() as session:
        await roster_repo.load_community(session=session, community=demo_community.generate())


def _demo_point(community: demo_community.Community, rng: random.Random) -> tuple[float, float]:
    grid = rng.choice(community.grids)
    min_lat, min_lon, max_lat, max_lon = grid.bounds
    return (min_lat + max_lat) / 2, (min_lon + max_lon) / 2
