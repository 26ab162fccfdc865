"""Planning an import: merge and replace, counts, and bad rows reported with their file rows."""

from services.dispatch.roster import changes, documents
from services.dispatch.roster.entities import Grid, Household, Kind, Member, Role, Roster

EXISTING = Roster(
    grids={"G1": Grid("G1", "one"), "G2": Grid("G2", "two")},
    members={
        "P1": Member("P1", "first", Role.PARTY_MEMBER, "G1"),
        "P2": Member("P2", "second", Role.PARTY_MEMBER, "G2"),
    },
    households={"H1": Household("H1", "G1", "first street", "P1")},
)


def document(payload: dict[str, object]) -> documents.Document:
    read = documents.from_json(payload)
    assert read.errors == []
    return read


def test_merge_adds_new_ids_updates_changed_ones_and_keeps_the_rest() -> None:
    file = document(
        {
            "grids": [{"id": "G1", "name": "one"}, {"id": "G3", "name": "three"}],
            "households": [
                {"id": "H1", "grid_id": "G1", "address": "moved", "linked_member_id": "P1"}
            ],
        }
    )
    planned = changes.plan(EXISTING, file, mode=changes.Mode.MERGE)
    assert sorted(planned.roster.grids) == ["G1", "G2", "G3"]
    assert [g.id for g in planned.created[Kind.GRID]] == ["G3"]
    assert planned.unchanged[Kind.GRID] == 1
    assert [h.address for h in planned.updated[Kind.HOUSEHOLD]] == ["moved"]
    assert planned.deleted == {Kind.GRID: [], Kind.HOUSEHOLD: []}
    assert Kind.MEMBER not in planned.created
    assert changes.problems(planned, file) == []


def test_replace_makes_each_given_kind_exactly_the_file_and_keeps_the_kinds_not_given() -> None:
    file = document({"grids": [{"id": "G1", "name": "one"}, {"id": "G2", "name": "two"}]})
    file.entities[Kind.HOUSEHOLD] = {}
    planned = changes.plan(EXISTING, file, mode=changes.Mode.REPLACE)
    assert planned.deleted == {Kind.GRID: [], Kind.HOUSEHOLD: ["H1"]}
    assert planned.roster.members == EXISTING.members
    assert planned.roster.households == {}


def test_replace_that_drops_a_grid_in_use_reports_the_stored_rows_it_strands() -> None:
    file = document({"grids": [{"id": "G1", "name": "one"}]})
    planned = changes.plan(EXISTING, file, mode=changes.Mode.REPLACE)
    (problem,) = changes.problems(planned, file)
    assert (problem.kind, problem.row, problem.id, problem.field) == (
        "member",
        None,
        "P2",
        "grid_id",
    )
    assert problem.reason == "unknown grid G2"


def test_problems_carry_the_row_of_the_file_and_come_in_file_order() -> None:
    file = documents.from_json(
        {
            "households": [
                {"id": "H2", "grid_id": "G1", "address": "a", "linked_member_id": "P1"},
                {"id": "H3", "grid_id": "G1", "address": "b", "linked_member_id": "P2"},
                {"id": "H4", "grid_id": "G1", "address": "c", "linked_member_id": "P1", "x": 1},
                {"id": "H5", "grid_id": "G9", "address": "d", "linked_member_id": "P1"},
            ]
        }
    )
    planned = changes.plan(EXISTING, file, mode=changes.Mode.MERGE)
    found = [(p.row, p.id, p.field) for p in changes.problems(planned, file)]
    assert found == [(2, "H3", "linked_member_id"), (3, "H4", "x"), (4, "H5", "grid_id")]
    reasons = {p.id: p.reason for p in changes.problems(planned, file)}
    assert reasons["H3"] == "linked member P2 belongs to grid G2, household is in G1"
    assert reasons["H4"] == "unknown field"


def test_an_existing_member_pushed_over_the_cap_by_the_file_is_reported() -> None:
    rows = [
        {"id": f"H{n + 10}", "grid_id": "G1", "address": str(n), "linked_member_id": "P1"}
        for n in range(10)
    ]
    file = document({"households": rows})
    planned = changes.plan(EXISTING, file, mode=changes.Mode.MERGE)
    (problem,) = changes.problems(planned, file, household_cap=10)
    assert (problem.kind, problem.id, problem.row) == ("member", "P1", None)
    assert "11 households" in problem.reason
