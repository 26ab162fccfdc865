"""The roster's invariants, checked over a whole snapshot so that every violation is reported. Pure.

- every grid's leader is a member of that grid; its committee member has the committee role;
- every member's grid exists; grid leaders and grid members have a grid;
- every household's grid exists, and its one linked member is a party member of that grid;
- no member is linked to more households than the cap (1+10: ten by default);
- every camera's grid exists.
"""

from collections import defaultdict
from dataclasses import dataclass

from services.dispatch.roster.entities import (
    DEFAULT_HOUSEHOLD_CAP,
    GRID_ROLES,
    LINKING_ROLES,
    Kind,
    Roster,
)


@dataclass(frozen=True)
class Problem:
    """One broken rule: which entity, which field, and why."""

    kind: Kind
    id: str
    field: str
    reason: str


def problems(roster: Roster, *, household_cap: int = DEFAULT_HOUSEHOLD_CAP) -> list[Problem]:
    """Every invariant the roster breaks, in a stable order (by kind, then id)."""
    found = [
        *_grid_problems(roster),
        *_member_problems(roster, household_cap=household_cap),
        *_household_problems(roster),
        *_camera_problems(roster),
    ]
    order = list(Kind)
    return sorted(found, key=lambda problem: (order.index(problem.kind), problem.id))


def _grid_problems(roster: Roster) -> list[Problem]:
    found = []
    for grid in roster.grids.values():
        if grid.leader_id is not None:
            leader = roster.members.get(grid.leader_id)
            if leader is None:
                reason = f"unknown member {grid.leader_id}"
            elif leader.grid_id != grid.id:
                reason = f"leader {leader.id} belongs to {_grid_of(leader.grid_id)}, not {grid.id}"
            else:
                reason = ""
            if reason:
                found.append(Problem(Kind.GRID, grid.id, "leader_id", reason))
        if grid.committee_member_id is not None:
            committee = roster.members.get(grid.committee_member_id)
            if committee is None:
                reason = f"unknown member {grid.committee_member_id}"
            elif committee.role != "committee":
                reason = f"member {committee.id} is {committee.role}, not committee"
            else:
                reason = ""
            if reason:
                found.append(Problem(Kind.GRID, grid.id, "committee_member_id", reason))
    return found


def _member_problems(roster: Roster, *, household_cap: int) -> list[Problem]:
    found = []
    linked: dict[str, list[str]] = defaultdict(list)
    for household in roster.households.values():
        linked[household.linked_member_id].append(household.id)
    for member in roster.members.values():
        if member.grid_id is not None and member.grid_id not in roster.grids:
            found.append(
                Problem(Kind.MEMBER, member.id, "grid_id", f"unknown grid {member.grid_id}")
            )
        elif member.grid_id is None and member.role in GRID_ROLES:
            found.append(
                Problem(Kind.MEMBER, member.id, "grid_id", f"a {member.role} needs a grid")
            )
        households = sorted(linked.get(member.id, []))
        if len(households) > household_cap:
            reason = (
                f"member {member.id} would be linked to {len(households)} households, "
                f"more than the cap of {household_cap}: {', '.join(households)}"
            )
            found.append(Problem(Kind.MEMBER, member.id, "linked_households", reason))
    return found


def _household_problems(roster: Roster) -> list[Problem]:
    found = []
    for household in roster.households.values():
        if household.grid_id not in roster.grids:
            found.append(
                Problem(
                    Kind.HOUSEHOLD, household.id, "grid_id", f"unknown grid {household.grid_id}"
                )
            )
        member = roster.members.get(household.linked_member_id)
        if member is None:
            reason = f"unknown member {household.linked_member_id}"
        elif member.role not in LINKING_ROLES:
            reason = f"linked member {member.id} is {member.role}, not a party member"
        elif member.grid_id != household.grid_id and household.grid_id in roster.grids:
            reason = (
                f"linked member {member.id} belongs to {_grid_of(member.grid_id)}, "
                f"household is in {household.grid_id}"
            )
        else:
            continue
        found.append(Problem(Kind.HOUSEHOLD, household.id, "linked_member_id", reason))
    return found


def _camera_problems(roster: Roster) -> list[Problem]:
    return [
        Problem(Kind.CAMERA, camera.id, "grid_id", f"unknown grid {camera.grid_id}")
        for camera in roster.cameras.values()
        if camera.grid_id not in roster.grids
    ]


def _grid_of(grid_id: str | None) -> str:
    return f"grid {grid_id}" if grid_id else "no grid"
