"""The dispatch policy: who gets an incident, and why. Pure: no IO, no clock."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.common.events import Rung

LADDER: tuple[Rung, ...] = (
    Rung.LINKED_MEMBER,
    Rung.GRID_MEMBER,
    Rung.GRID_LEADER,
    Rung.COMMITTEE,
    Rung.TOWN,
)


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
    missed_by: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    assignee_id: str | None
    rung: Rung
    reason: str


@dataclass(frozen=True)
class Climb:
    """One rung climbed by an escalation, and why."""

    from_rung: Rung
    to_rung: Rung
    reason: str


def choose_assignee(
    situation: Situation,
    team: GridTeam | None,
    officers: Mapping[str, Officer],
    *,
    from_rung: Rung = Rung.LINKED_MEMBER,
) -> Decision:
    """Walk the ladder from `from_rung`: linked member, grid member, leader, committee, town."""
    if situation.grid_id is None or team is None:
        return Decision(None, Rung.COMMITTEE, "location unknown: queued for the committee")
    skipped: list[str] = []
    for rung in LADDER[LADDER.index(from_rung) :]:
        chosen, why = _candidate(rung, situation, team, officers)
        if chosen is not None:
            return Decision(chosen.id, rung, _with_skipped(why, skipped))
        skipped.append(why)
    return Decision(
        None, Rung.TOWN, _with_skipped("transferred to a town-level department", skipped)
    )


def escalate(
    situation: Situation,
    team: GridTeam | None,
    officers: Mapping[str, Officer],
    *,
    current_rung: Rung,
    reason: str,
) -> tuple[list[Climb], Decision]:
    """Climb one rung at a time until someone is available; each climb is one rung, with why."""
    if team is None or situation.grid_id is None or current_rung == Rung.TOWN:
        return [], Decision(None, Rung.TOWN, f"{reason}; transferred to a town-level department")
    climbs: list[Climb] = []
    cause = reason
    position = LADDER.index(current_rung)
    for rung in LADDER[position + 1 :]:
        climbs.append(Climb(LADDER[LADDER.index(rung) - 1], rung, cause))
        chosen, why = _candidate(rung, situation, team, officers)
        if chosen is not None:
            return climbs, Decision(chosen.id, rung, f"escalated: {why}")
        cause = why
    return climbs, Decision(None, Rung.TOWN, "escalated: transferred to a town-level department")


def choose_helpers(
    roles: Iterable[str], officers: Mapping[str, Officer], *, exclude: Iterable[str] = ()
) -> list[Officer]:
    """One available officer per role (least loaded first), e.g. police beside the lead."""
    excluded = set(exclude)
    helpers = []
    for role in roles:
        available = [
            officer
            for officer in officers.values()
            if officer.role == role
            and officer.id not in excluded
            and officer.on_duty
            and officer.has_room
        ]
        if available:
            chosen = min(available, key=lambda officer: (officer.open_cases, officer.id))
            helpers.append(chosen)
            excluded.add(chosen.id)
    return helpers


def _candidate(
    rung: Rung, situation: Situation, team: GridTeam, officers: Mapping[str, Officer]
) -> tuple[Officer | None, str]:
    """The officer this rung offers, or None and why not."""
    if rung == Rung.LINKED_MEMBER:
        return _single(
            officers.get(situation.linked_member_id or ""),
            situation,
            "linked party member of the household (1+10)",
            "linked member",
        )
    if rung == Rung.GRID_MEMBER:
        others = [
            officers[member_id]
            for member_id in team.member_ids
            if member_id in officers
            and member_id not in (situation.linked_member_id, team.leader_id)
            and _unavailable(officers[member_id], situation) is None
            and situation.required_skills <= officers[member_id].skills
        ]
        if not others:
            return None, "no other grid member available"
        chosen = min(others, key=lambda officer: (officer.open_cases, officer.id))
        return chosen, f"least loaded available grid member ({chosen.open_cases} open cases)"
    if rung == Rung.GRID_LEADER:
        return _single(
            officers.get(team.leader_id or ""), situation, "grid_leader of the grid", "grid_leader"
        )
    if rung == Rung.COMMITTEE:
        return _single(
            officers.get(team.committee_member_id or ""),
            situation,
            "committee member responsible for the grid",
            "committee",
        )
    return None, "the town is outside the community"


def _single(
    officer: Officer | None, situation: Situation, chosen_reason: str, label: str
) -> tuple[Officer | None, str]:
    if officer is None:
        return None, f"no {label.replace('_', ' ')} on the roster"
    why_not = _unavailable(officer, situation)
    if why_not is None:
        return officer, chosen_reason
    return None, f"{label} {officer.id} {why_not}"


def _unavailable(officer: Officer, situation: Situation) -> str | None:
    if officer.id in situation.declined_by:
        return "declined this case"
    if officer.id in situation.missed_by:
        return "let the acknowledgement deadline pass"
    if not officer.on_duty:
        return "is off duty"
    if not officer.has_room:
        return f"is at capacity ({officer.open_cases}/{officer.case_capacity})"
    return None


def _with_skipped(reason: str, skipped: list[str]) -> str:
    return reason if not skipped else f"{reason}; skipped: {'; '.join(skipped)}"
