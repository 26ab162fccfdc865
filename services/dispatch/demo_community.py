"""The demo community of the case study: 9 grids, 60 party members, 586 households, 2,196 residents.

Deterministic: the same seed always gives the same community.
"""

import random
from dataclasses import dataclass, field
from typing import Any

GRIDS = 9
PARTY_MEMBERS = 60
HOUSEHOLDS = 586
RESIDENTS = 2196
VILLAGES = ("Dongshan", "Xiwan", "Nanping", "Beiling", "Zhongxin")
VILLAGE_GROUPS = 49
CAMERAS = 27
COMMITTEE_MEMBERS = 5
HOUSEHOLD_CAP = 10
ORIGIN_LAT, ORIGIN_LON, CELL_DEG = 26.5800, 106.7100, 0.0040
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass(frozen=True)
class Grid:
    id: str
    name: str
    leader_id: str
    committee_member_id: str
    bounds: tuple[float, float, float, float]  # min_lat, min_lon, max_lat, max_lon

    @property
    def boundary(self) -> dict[str, Any]:
        """The grid's box as a GeoJSON Polygon: [lon, lat] positions, counter-clockwise."""
        min_lat, min_lon, max_lat, max_lon = self.bounds
        ring = [[min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat], [min_lon, max_lat]]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    role: str
    grid_id: str | None
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class Household:
    id: str
    grid_id: str
    address: str
    village: str
    village_group: str
    linked_member_id: str
    lat: float
    lon: float
    elderly_alone: bool = False
    disabled: bool = False


@dataclass(frozen=True)
class Resident:
    id: str
    household_id: str
    name: str
    birth_year: int


@dataclass(frozen=True)
class Camera:
    id: str
    grid_id: str
    place: str
    lat: float
    lon: float


@dataclass
class Community:
    grids: list[Grid] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)


def generate(seed: int = 586) -> Community:
    """Build the whole community; every household linked to one party member of its own grid."""
    rng = random.Random(seed)
    community = Community()
    committee = [
        Member(f"C{n:02d}", _name(rng), "committee", None, ("mediation", "coordination"))
        for n in range(1, COMMITTEE_MEMBERS + 1)
    ]
    community.members.extend(committee)
    community.members.append(Member("POL01", _name(rng), "police", None, ("public_order",)))
    community.members.append(Member("LAW01", _name(rng), "legal_adviser", None, ("legal",)))

    members_per_grid = _spread(PARTY_MEMBERS, GRIDS)
    households_per_grid = _spread(HOUSEHOLDS, GRIDS, weights=members_per_grid)
    groups = [f"{VILLAGES[g % len(VILLAGES)]}-{g + 1:02d}" for g in range(VILLAGE_GROUPS)]
    member_number = household_number = 0
    for g in range(GRIDS):
        grid_id = f"G{g + 1:02d}"
        row, col = divmod(g, 3)
        bounds = (
            ORIGIN_LAT + row * CELL_DEG,
            ORIGIN_LON + col * CELL_DEG,
            ORIGIN_LAT + (row + 1) * CELL_DEG,
            ORIGIN_LON + (col + 1) * CELL_DEG,
        )
        grid_members = []
        for k in range(members_per_grid[g]):
            member_number += 1
            role = "grid_leader" if k == 0 else "party_member"
            skills = tuple(sorted(rng.sample(("mediation", "safety", "services", "legal"), 2)))
            grid_members.append(Member(f"P{member_number:03d}", _name(rng), role, grid_id, skills))
        community.members.extend(grid_members)
        community.grids.append(
            Grid(
                grid_id,
                f"第{g + 1}网格",
                grid_members[0].id,
                committee[g % COMMITTEE_MEMBERS].id,
                bounds,
            )
        )
        for k in range(households_per_grid[g]):
            household_number += 1
            lat, lon = _inside(rng, bounds)
            group = groups[
                (g * VILLAGE_GROUPS // GRIDS + k * 6 // households_per_grid[g]) % VILLAGE_GROUPS
            ]
            community.households.append(
                Household(
                    id=f"H{household_number:04d}",
                    grid_id=grid_id,
                    address=f"安置区{g + 1}栋{k // 12 + 1}单元{k % 12 + 101}",
                    village=group.split("-")[0],
                    village_group=group,
                    linked_member_id=grid_members[k % len(grid_members)].id,
                    lat=lat,
                    lon=lon,
                    elderly_alone=rng.random() < 0.08,
                    disabled=rng.random() < 0.03,
                )
            )
        for k in range(CAMERAS // GRIDS):
            lat, lon = _inside(rng, bounds)
            community.cameras.append(
                Camera(f"CAM{g * 3 + k + 1:02d}", grid_id, f"网格{g + 1}公共区域{k + 1}", lat, lon)
            )
    community.residents = _residents(rng, community.households)
    return community


def _spread(total: int, parts: int, weights: list[int] | None = None) -> list[int]:
    """Split `total` into `parts` integers in proportion to `weights`, largest remainders first."""
    weights = weights or [1] * parts
    exact = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(parts), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _residents(rng: random.Random, households: list[Household]) -> list[Resident]:
    sizes = [1] * len(households)
    extra = RESIDENTS - len(households)
    while extra:
        i = rng.randrange(len(households))
        if sizes[i] < 8:
            sizes[i] += 1
            extra -= 1
    residents = []
    for household, size in zip(households, sizes, strict=True):
        for k in range(size):
            residents.append(
                Resident(
                    f"{household.id}-R{k + 1}", household.id, _name(rng), rng.randint(1938, 2022)
                )
            )
    return residents


def _inside(rng: random.Random, bounds: tuple[float, float, float, float]) -> tuple[float, float]:
    min_lat, min_lon, max_lat, max_lon = bounds
    margin = CELL_DEG * 0.05
    return (
        round(rng.uniform(min_lat + margin, max_lat - margin), 6),
        round(rng.uniform(min_lon + margin, max_lon - margin), 6),
    )


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def import_document(community: Community) -> dict[str, list[dict[str, Any]]]:
    """The community as a roster import file (`POST /v1/roster/import`); residents are not in it."""
    return {
        "grids": [
            {
                "id": g.id,
                "name": g.name,
                "leader_id": g.leader_id,
                "committee_member_id": g.committee_member_id,
                "boundary": g.boundary,
            }
            for g in community.grids
        ],
        "members": [{**vars(m), "skills": list(m.skills)} for m in community.members],
        "households": [dict(vars(h)) for h in community.households],
        "cameras": [dict(vars(c)) for c in community.cameras],
    }
