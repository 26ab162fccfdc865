"""The dispatch policy: who gets an incident, and why. Pure: no IO, no clock."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.common.events import Rung


@dataclass(frozen=True)
class Officer:
    """What the policy needs to know about one member of the roster right now."""

    id: str
    role: str
    grid_id: str | None
    on_duty: bool = True
    open_cases: int = 0
    case_capacity: int = 20
    skills: frozenset[str] = frozenset()

    @property
    def has_room(self) -> bool:
        return self.open_cases < self.case_capacity


@dataclass(frozen=True)
class GridTeam:
    """A grid's people: its members, its leader and the committee member responsible for it."""

    grid_id: str
    member_ids: tuple[str, ...]
    leader_id: str | None
    committee_member_id: str | None


@dataclass(frozen=True)
class Situation:
    """The facts of one incident that the choice depends on."""

    grid_id: str | None
    linked_member_id: str | None
    required_skills: frozenset[str] = frozenset()
    declined_by: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    assignee_id: str | None
    rung: Rung
    reason: str


def choose_assignee(
    situation: Situation, team: GridTeam | None, officers: Mapping[str, Officer]
) -> Decision:
    """Walk the ladder (linked member → grid member → grid leader → committee → town)."""
    if situation.grid_id is None or team is None:
        return Decision(None, Rung.COMMITTEE, "location unknown: queued for the committee")
    skipped: list[str] = []

    linked = officers.get(situation.linked_member_id or "")
    if linked is not None:
        why_not = _unavailable(linked, situation)
        if why_not is None:
            return Decision(
                linked.id, Rung.LINKED_MEMBER, "linked party member of the household (1+10)"
            )
        skipped.append(f"linked member {linked.id} {why_not}")

    others = [
        officers[member_id]
        for member_id in team.member_ids
        if member_id in officers
        and member_id not in (situation.linked_member_id, team.leader_id)
        and _unavailable(officers[member_id], situation) is None
        and situation.required_skills <= officers[member_id].skills
    ]
    if others:
        chosen = min(others, key=lambda officer: (officer.open_cases, officer.id))
        reason = f"least loaded available grid member ({chosen.open_cases} open cases)"
        return Decision(chosen.id, Rung.GRID_MEMBER, _with_skipped(reason, skipped))
    skipped.append("no other grid member available")

    for rung, member_id in (
        (Rung.GRID_LEADER, team.leader_id),
        (Rung.COMMITTEE, team.committee_member_id),
    ):
        officer = officers.get(member_id or "")
        if officer is None:
            skipped.append(f"no {rung.value.replace('_', ' ')} on the roster")
            continue
        why_not = _unavailable(officer, situation)
        if why_not is None:
            return Decision(officer.id, rung, _with_skipped(f"{rung.value} of the grid", skipped))
        skipped.append(f"{rung.value} {officer.id} {why_not}")

    return Decision(
        None, Rung.TOWN, _with_skipped("transferred to a town-level department", skipped)
    )


def _unavailable(officer: Officer, situation: Situation) -> str | None:
    if officer.id in situation.declined_by:
        return "declined this case"
    if not officer.on_duty:
        return "is off duty"
    if not officer.has_room:
        return f"is at capacity ({officer.open_cases}/{officer.case_capacity})"
    return None


def _with_skipped(reason: str, skipped: list[str]) -> str:
    return reason if not skipped else f"{reason}; skipped: {'; '.join(skipped)}"
