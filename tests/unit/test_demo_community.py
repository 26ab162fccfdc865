"""The demo community keeps the case study's figures and the 1+10 invariants."""

from collections import Counter

from services.dispatch import demo_community


def test_has_the_figures_of_the_case_study() -> None:
    community = demo_community.generate()
    party = [m for m in community.members if m.role in ("party_member", "grid_leader")]
    assert len(community.grids) == 9
    assert len(party) == 60
    assert len(community.households) == 586
    assert len(community.residents) == 2196
    assert len(community.cameras) == 27
    assert len({h.village_group for h in community.households}) <= 49
    assert {h.village for h in community.households} == set(demo_community.VILLAGES)


def test_every_household_is_linked_to_one_party_member_of_its_own_grid() -> None:
    community = demo_community.generate()
    members = {m.id: m for m in community.members}
    for household in community.households:
        linked = members[household.linked_member_id]
        assert linked.role in ("party_member", "grid_leader")
        assert linked.grid_id == household.grid_id


def test_no_member_has_more_than_ten_households() -> None:
    links = Counter(h.linked_member_id for h in demo_community.generate().households)
    assert max(links.values()) <= demo_community.HOUSEHOLD_CAP
    assert len(links) == 60


def test_every_grid_has_a_leader_of_its_own_and_a_committee_member() -> None:
    community = demo_community.generate()
    members = {m.id: m for m in community.members}
    for grid in community.grids:
        assert members[grid.leader_id].grid_id == grid.id
        assert members[grid.committee_member_id].role == "committee"


def test_is_deterministic_and_seeded() -> None:
    assert demo_community.generate(7) == demo_community.generate(7)
    assert demo_community.generate(7).households != demo_community.generate(8).households


def test_households_lie_inside_their_grid() -> None:
    community = demo_community.generate()
    bounds = {g.id: g.bounds for g in community.grids}
    for household in community.households:
        min_lat, min_lon, max_lat, max_lon = bounds[household.grid_id]
        assert min_lat <= household.lat < max_lat and min_lon <= household.lon < max_lon
