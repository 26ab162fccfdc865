"""The roster's invariants: every one is checked, and every violation is reported at once."""

from dataclasses import replace

import pytest

from services.dispatch import demo_community
from services.dispatch.roster import changes, documents, invariants
from services.dispatch.roster.entities import (
    Camera,
    Grid,
    Household,
    Kind,
    Member,
    Role,
    Roster,
)

G1 = Grid("G1", "grid one", leader_id="P1", committee_member_id="C1")
G2 = Grid("G2", "grid two", leader_id="P3", committee_member_id="C1")
MEMBERS = [
    Member("C1", "committee", Role.COMMITTEE),
    Member("POL", "officer", Role.POLICE),
    Member("P1", "leader one", Role.GRID_LEADER, "G1"),
    Member("P2", "party one", Role.PARTY_MEMBER, "G1"),
    Member("P3", "leader two", Role.GRID_LEADER, "G2"),
    Member("V1", "volunteer", Role.VOLUNTEER, "G1"),
]


def household(number: int, grid_id: str = "G1", linked: str = "P2") -> Household:
    return Household(f"H{number:03d}", grid_id, f"building {number}", linked)


def roster(*extra: Grid | Member | Household | Camera) -> Roster:
    base = Roster(
        grids={"G1": G1, "G2": G2},
        members={m.id: m for m in MEMBERS},
        households={h.id: h for h in (household(1), household(2, "G2", "P3"))},
        cameras={"CAM1": Camera("CAM1", "G1", "gate", 26.5, 106.7)},
    )
    for entity in extra:
        base = base.with_entity(entity)
    return base


def reasons(found: list[invariants.Problem]) -> list[tuple[str, str, str, str]]:
    return [(p.kind.value, p.id, p.field, p.reason) for p in found]


def test_a_sound_roster_breaks_nothing() -> None:
    assert invariants.problems(roster()) == []


def test_the_demo_community_keeps_every_invariant() -> None:
    document = documents.from_json(demo_community.import_document(demo_community.generate()))
    planned = changes.plan(Roster(), document, mode=changes.Mode.REPLACE)
    assert document.errors == []
    assert changes.problems(planned, document) == []


def test_a_household_linked_to_a_member_of_another_grid_is_refused() -> None:
    found = invariants.problems(roster(household(3, "G2", "P2")))
    assert reasons(found) == [
        (
            "household",
            "H003",
            "linked_member_id",
            "linked member P2 belongs to grid G1, household is in G2",
        )
    ]


@pytest.mark.parametrize("linked, role", [("POL", "police"), ("C1", "committee")])
def test_a_household_must_be_linked_to_a_party_member(linked: str, role: str) -> None:
    found = invariants.problems(roster(household(3, "G1", linked)))
    assert reasons(found) == [
        (
            "household",
            "H003",
            "linked_member_id",
            f"linked member {linked} is {role}, not a party member",
        )
    ]


def test_a_volunteer_of_the_grid_cannot_be_the_linked_member() -> None:
    assert "V1 is volunteer" in invariants.problems(roster(household(3, "G1", "V1")))[0].reason


def test_unknown_grids_and_members_are_named() -> None:
    found = invariants.problems(
        roster(
            household(3, "G9", "P2"),
            household(4, "G1", "P9"),
            Member("P5", "lost", Role.PARTY_MEMBER, "G7"),
            Camera("CAM2", "G8", "square", 26.5, 106.7),
        )
    )
    assert reasons(found) == [
        ("member", "P5", "grid_id", "unknown grid G7"),
        ("household", "H003", "grid_id", "unknown grid G9"),
        ("household", "H004", "linked_member_id", "unknown member P9"),
        ("camera", "CAM2", "grid_id", "unknown grid G8"),
    ]


def test_no_member_is_linked_to_more_households_than_the_cap() -> None:
    ten = roster(*(household(n) for n in range(3, 12)))
    assert sum(h.linked_member_id == "P2" for h in ten.households.values()) == 10
    assert invariants.problems(ten) == []
    eleven = ten.with_entity(household(12))
    (problem,) = invariants.problems(eleven)
    assert (problem.kind, problem.id, problem.field) == (Kind.MEMBER, "P2", "linked_households")
    assert "linked to 11 households, more than the cap of 10" in problem.reason
    assert "H012" in problem.reason


def test_the_cap_is_configurable() -> None:
    three = roster(household(3), household(4))
    assert invariants.problems(three, household_cap=3) == []
    assert "cap of 2" in invariants.problems(three, household_cap=2)[0].reason


def test_a_grid_leader_belongs_to_the_grid_and_its_committee_member_is_committee() -> None:
    found = invariants.problems(
        roster(
            replace(G1, leader_id="P3", committee_member_id="POL"),
            replace(G2, leader_id="NOBODY", committee_member_id="P3"),
        )
    )
    assert reasons(found) == [
        ("grid", "G1", "leader_id", "leader P3 belongs to grid G2, not G1"),
        ("grid", "G1", "committee_member_id", "member POL is police, not committee"),
        ("grid", "G2", "leader_id", "unknown member NOBODY"),
        ("grid", "G2", "committee_member_id", "member P3 is grid_leader, not committee"),
    ]


def test_a_grid_leader_or_grid_member_needs_a_grid() -> None:
    found = invariants.problems(roster(Member("P7", "floating", Role.GRID_MEMBER)))
    assert reasons(found) == [("member", "P7", "grid_id", "a grid_member needs a grid")]


def test_moving_a_member_to_another_grid_strands_their_households() -> None:
    found = invariants.problems(roster(replace(MEMBERS[3], grid_id="G2")))
    assert reasons(found) == [
        (
            "household",
            "H001",
            "linked_member_id",
            "linked member P2 belongs to grid G2, household is in G1",
        )
    ]


def test_every_violation_is_reported_not_just_the_first() -> None:
    broken = roster(
        replace(G1, leader_id="P3"),
        Member("P8", "lost", Role.PARTY_MEMBER, "G7"),
        *(household(n) for n in range(3, 13)),
        household(20, "G2", "P2"),
        household(21, "G1", "POL"),
        Camera("CAM9", "G0", "bridge", 26.5, 106.7),
    )
    found = invariants.problems(broken)
    assert {(p.kind, p.id) for p in found} == {
        (Kind.GRID, "G1"),
        (Kind.MEMBER, "P8"),
        (Kind.MEMBER, "P2"),
        (Kind.HOUSEHOLD, "H020"),
        (Kind.HOUSEHOLD, "H021"),
        (Kind.CAMERA, "CAM9"),
    }
    assert [p.kind for p in found] == sorted((p.kind for p in found), key=list(Kind).index)
