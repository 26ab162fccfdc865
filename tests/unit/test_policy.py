"""The dispatch policy, rung by rung, without a broker."""

from hypothesis import given
from hypothesis import strategies as st

from services.common.events import Rung
from services.dispatch.domain.policy import (
    LADDER,
    Decision,
    GridTeam,
    Officer,
    Situation,
    choose_assignee,
    choose_helpers,
    escalate,
)

TEAM = GridTeam(
    grid_id="G01",
    member_ids=("P001", "P002", "P003", "P004"),
    leader_id="P001",
    committee_member_id="C01",
)


def officers(**changes: dict) -> dict[str, Officer]:
    base = {
        "P001": Officer("P001", "grid_leader", "G01"),
        "P002": Officer("P002", "party_member", "G01", open_cases=3),
        "P003": Officer("P003", "party_member", "G01", open_cases=1),
        "P004": Officer("P004", "party_member", "G01", open_cases=5),
        "C01": Officer("C01", "committee", None),
    }
    for member_id, fields in changes.items():
        base[member_id] = Officer(**{**vars(base[member_id]), **fields})
    return base


def situation(**fields: object) -> Situation:
    return Situation(**{"grid_id": "G01", "linked_member_id": "P002", **fields})  # type: ignore[arg-type]


def test_prefers_linked_member_when_on_duty() -> None:
    decision = choose_assignee(situation(), TEAM, officers())
    assert decision.assignee_id == "P002"
    assert decision.rung == Rung.LINKED_MEMBER
    assert "1+10" in decision.reason


def test_goes_to_least_loaded_grid_member_when_linked_member_is_off_duty() -> None:
    decision = choose_assignee(situation(), TEAM, officers(P002={"on_duty": False}))
    assert decision == Decision(
        "P003",
        Rung.GRID_MEMBER,
        "least loaded available grid member (1 open cases);"
        " skipped: linked member P002 is off duty",
    )


def test_skips_linked_member_at_capacity() -> None:
    decision = choose_assignee(situation(), TEAM, officers(P002={"open_cases": 20}))
    assert decision.assignee_id == "P003"
    assert "at capacity (20/20)" in decision.reason


def test_skips_members_who_declined() -> None:
    decision = choose_assignee(situation(declined_by=frozenset({"P002", "P003"})), TEAM, officers())
    assert decision.assignee_id == "P004"
    assert "declined" in decision.reason


def test_requires_skills_of_grid_members() -> None:
    team_officers = officers(P002={"on_duty": False}, P004={"skills": frozenset({"legal"})})
    decision = choose_assignee(situation(required_skills=frozenset({"legal"})), TEAM, team_officers)
    assert decision.assignee_id == "P004"


def test_climbs_to_grid_leader_when_no_member_is_available() -> None:
    busy = {member: {"on_duty": False} for member in ("P002", "P003", "P004")}
    decision = choose_assignee(situation(), TEAM, officers(**busy))
    assert (decision.assignee_id, decision.rung) == ("P001", Rung.GRID_LEADER)


def test_climbs_to_committee_then_town() -> None:
    away = {member: {"on_duty": False} for member in ("P001", "P002", "P003", "P004")}
    committee = choose_assignee(situation(), TEAM, officers(**away))
    assert (committee.assignee_id, committee.rung) == ("C01", Rung.COMMITTEE)
    town = choose_assignee(situation(), TEAM, officers(**away, C01={"on_duty": False}))
    assert (town.assignee_id, town.rung) == (None, Rung.TOWN)
    assert town.reason.startswith("transferred to a town-level department")


def test_unlocated_incident_is_queued_for_the_committee() -> None:
    decision = choose_assignee(situation(grid_id=None), None, officers())
    assert decision == Decision(None, Rung.COMMITTEE, "location unknown: queued for the committee")


@given(
    duty=st.lists(st.booleans(), min_size=5, max_size=5),
    loads=st.lists(st.integers(min_value=0, max_value=25), min_size=5, max_size=5),
)
def test_never_picks_an_unavailable_officer_when_an_available_one_exists(
    duty: list[bool], loads: list[int]
) -> None:
    ids = ("P001", "P002", "P003", "P004", "C01")
    changes = {
        member: {"on_duty": on, "open_cases": load}
        for member, on, load in zip(ids, duty, loads, strict=True)
    }
    roster = officers(**changes)
    decision = choose_assignee(situation(), TEAM, roster)
    available = [o for o in roster.values() if o.on_duty and o.has_room]
    if available:
        chosen = roster[decision.assignee_id or ""]
        assert chosen.on_duty and chosen.has_room
    else:
        assert decision.rung == Rung.TOWN
    linked = roster["P002"]
    if linked.on_duty and linked.has_room:
        assert decision.assignee_id == "P002"


def test_escalation_climbs_one_rung_at_a_time_and_says_why() -> None:
    busy = {member: {"on_duty": False} for member in ("P003", "P004")}
    climbs, decision = escalate(
        situation(missed_by=frozenset({"P002"})),
        TEAM,
        officers(**busy),
        current_rung=Rung.LINKED_MEMBER,
        reason="acknowledgement deadline missed by P002",
    )
    assert [(c.from_rung, c.to_rung) for c in climbs] == [
        (Rung.LINKED_MEMBER, Rung.GRID_MEMBER),
        (Rung.GRID_MEMBER, Rung.GRID_LEADER),
    ]
    assert climbs[0].reason == "acknowledgement deadline missed by P002"
    assert climbs[1].reason == "no other grid member available"
    assert (decision.assignee_id, decision.rung) == ("P001", Rung.GRID_LEADER)


def test_escalation_from_the_committee_leaves_the_community() -> None:
    climbs, decision = escalate(
        situation(), TEAM, officers(), current_rung=Rung.COMMITTEE, reason="missed"
    )
    assert [(c.from_rung, c.to_rung) for c in climbs] == [(Rung.COMMITTEE, Rung.TOWN)]
    assert decision.rung == Rung.TOWN and decision.assignee_id is None


@given(
    start=st.sampled_from(LADDER[:-1]),
    duty=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_every_escalation_climbs_exactly_one_rung(start: Rung, duty: list[bool]) -> None:
    ids = ("P001", "P002", "P003", "P004", "C01")
    roster = officers(**{m: {"on_duty": on} for m, on in zip(ids, duty, strict=True)})
    climbs, decision = escalate(situation(), TEAM, roster, current_rung=start, reason="missed")
    assert climbs, "an escalation always climbs"
    assert climbs[0].from_rung == start
    for climb in climbs:
        assert LADDER.index(climb.to_rung) == LADDER.index(climb.from_rung) + 1
    assert decision.rung == climbs[-1].to_rung
    if decision.assignee_id is not None:
        assert roster[decision.assignee_id].on_duty


def test_helpers_are_the_least_loaded_available_of_each_role() -> None:
    roster = {
        "POL01": Officer("POL01", "police", None, open_cases=4),
        "POL02": Officer("POL02", "police", None, open_cases=1),
        "POL03": Officer("POL03", "police", None, on_duty=False),
        "LAW01": Officer("LAW01", "legal_adviser", None),
    }
    helpers = choose_helpers(["police", "legal_adviser", "volunteer"], roster)
    assert [helper.id for helper in helpers] == ["POL02", "LAW01"]
