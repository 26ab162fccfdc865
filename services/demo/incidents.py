"""Realistic demo incidents of the kinds the case study names. Pure and seeded."""

import random
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from services.dispatch import demo_community


@dataclass(frozen=True)
class Kind:
    category: str
    channel: str
    place: str  # household, camera or point
    weight: int
    descriptions: tuple[str, ...]


KINDS = (
    Kind(
        "neighbour_dispute",
        "officer_app",
        "household",
        14,
        (
            "邻里因楼道堆物发生争吵 neighbours quarrel over things left on the stairs",
            "楼上漏水引发纠纷 water leaking from upstairs causes a dispute",
        ),
    ),
    Kind(
        "family_dispute",
        "hotline",
        "household",
        5,
        ("家庭赡养纠纷 family dispute over supporting elderly parents",),
    ),
    Kind("night_nuisance", "camera", "camera", 6, ("夜间飞车党扰民 motorbikes racing at night",)),
    Kind(
        "illegal_construction",
        "patrol",
        "point",
        8,
        ("楼顶私搭彩钢棚 illegal steel shed on a roof", "院外乱搭雨棚 illegal awning"),
    ),
    Kind("clutter", "patrol", "point", 8, ("门前乱堆乱放杂物 clutter in front of houses",)),
    Kind(
        "garden_encroachment",
        "resident_app",
        "point",
        6,
        ("公共绿地被开垦种菜 public garden dug up for vegetables",),
    ),
    Kind(
        "wall_seepage",
        "platform",
        "point",
        3,
        ("挡土墙渗水 water seeping through a retaining wall",),
    ),
    Kind("safety_hazard", "camera", "camera", 4, ("消防通道被占用 fire lane blocked",)),
    Kind(
        "paperwork_service",
        "service_hall",
        "household",
        12,
        (
            "代办户籍迁移手续 help with household registration transfer",
            "代办社保认证 help with social-insurance certification",
        ),
    ),
    Kind(
        "employment_service",
        "platform",
        "household",
        6,
        ("咨询就近就业岗位 asks about local jobs",),
    ),
    Kind(
        "home_service",
        "hotline",
        "household",
        6,
        ("独居老人需要上门帮助 elderly resident living alone needs a home visit",),
    ),
    Kind(
        "fraud_prevention", "officer_app", "household", 3, ("疑似电信诈骗 suspected phone fraud",)
    ),
    Kind(
        "legal_advice",
        "resident_app",
        "household",
        3,
        ("咨询土地补偿法律问题 asks for legal advice",),
    ),
)


def stream(seed: int = 2196) -> Generator[dict[str, Any], None, None]:
    """Endless request bodies for intake's POST /v1/incidents."""
    rng = random.Random(seed)
    community = demo_community.generate()
    weights = [kind.weight for kind in KINDS]
    officers_of: dict[str, list[str]] = {}  # grid id -> its members, who patrol it
    for member in community.members:
        if member.grid_id is not None:
            officers_of.setdefault(member.grid_id, []).append(member.id)
    while True:
        kind = rng.choices(KINDS, weights)[0]
        body: dict[str, Any] = {
            "channel": kind.channel,
            "category": kind.category,
            "description": rng.choice(kind.descriptions),
        }
        if kind.place == "household":
            household = rng.choice(community.households)
            body["household_id"], grid_id = household.id, household.grid_id
        elif kind.place == "camera":
            camera = rng.choice(community.cameras)
            body["camera_id"], grid_id = camera.id, camera.grid_id
        else:
            household = rng.choice(community.households)
            body["location"] = {"lat": household.lat, "lon": household.lon}
            grid_id = household.grid_id
        if kind.channel == "patrol":
            body["reported_by"] = rng.choice(officers_of[grid_id])
        if kind.channel == "hotline":
            body["reporter_phone"] = f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
        yield body
