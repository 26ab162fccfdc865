"""Roster entities as plain values, and the whole roster as one snapshot. Pure."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from services.dispatch.roster import geometry

DEFAULT_HOUSEHOLD_CAP = 10  # the "10" of 1+10; DISPATCH_HOUSEHOLD_CAP overrides it
DEFAULT_CASE_CAPACITY = 20  # open cases a member may hold at once


class Role(StrEnum):
    PARTY_MEMBER = "party_member"
    GRID_MEMBER = "grid_member"
    GRID_LEADER = "grid_leader"
    COMMITTEE = "committee"
    WORK_TEAM = "work_team"
    POLICE = "police"
    LEGAL_ADVISER = "legal_adviser"
    VOLUNTEER = "volunteer"


# A grid leader is a party member too; grid members (网格员) need not be.
LINKING_ROLES = frozenset({Role.PARTY_MEMBER, Role.GRID_LEADER})
# Roles that only make sense inside one grid.
GRID_ROLES = frozenset({Role.GRID_MEMBER, Role.GRID_LEADER})


class Kind(StrEnum):
    """The four kinds of roster entity, in the order a file is read and errors are listed."""

    GRID = "grid"
    MEMBER = "member"
    HOUSEHOLD = "household"
    CAMERA = "camera"


@dataclass(frozen=True)
class Grid:
    id: str
    name: str
    leader_id: str | None = None
    committee_member_id: str | None = None
    boundary: geometry.Area | None = None


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    role: Role
    grid_id: str | None = None
    skills: tuple[str, ...] = ()
    case_capacity: int = DEFAULT_CASE_CAPACITY


@dataclass(frozen=True)
class Household:
    id: str
    grid_id: str
    address: str
    linked_member_id: str
    village: str = ""
    village_group: str = ""
    lat: float | None = None
    lon: float | None = None
    elderly_alone: bool = False
    disabled: bool = False


@dataclass(frozen=True)
class Camera:
    id: str
    grid_id: str
    place: str
    lat: float
    lon: float


Entity = Grid | Member | Household | Camera
KIND_OF: dict[type, Kind] = {
    Grid: Kind.GRID,
    Member: Kind.MEMBER,
    Household: Kind.HOUSEHOLD,
    Camera: Kind.CAMERA,
}


@dataclass(frozen=True)
class Roster:
    """Every grid, member, household and camera, by id."""

    grids: Mapping[str, Grid] = field(default_factory=dict)
    members: Mapping[str, Member] = field(default_factory=dict)
    households: Mapping[str, Household] = field(default_factory=dict)
    cameras: Mapping[str, Camera] = field(default_factory=dict)

    def of_kind(self, kind: Kind) -> Mapping[str, Entity]:
        """The entities of one kind, by id."""
        by_kind: dict[Kind, Mapping[str, Entity]] = {
            Kind.GRID: self.grids,
            Kind.MEMBER: self.members,
            Kind.HOUSEHOLD: self.households,
            Kind.CAMERA: self.cameras,
        }
        return by_kind[kind]

    def with_kind(self, kind: Kind, entities: Mapping[str, Entity]) -> "Roster":
        """The same roster with every entity of one kind replaced."""
        attribute = {
            Kind.GRID: "grids",
            Kind.MEMBER: "members",
            Kind.HOUSEHOLD: "households",
            Kind.CAMERA: "cameras",
        }[kind]
        changes: dict[str, Any] = {attribute: dict(entities)}
        return replace(self, **changes)

    def with_entity(self, entity: Entity) -> "Roster":
        """The same roster with one entity added or replaced."""
        kind = KIND_OF[type(entity)]
        return self.with_kind(kind, {**self.of_kind(kind), entity.id: entity})
