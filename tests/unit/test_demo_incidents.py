"""The demo's feed is what intake takes: every body it makes is a valid report."""

import itertools

from services.common import events
from services.demo import incidents
from services.dispatch import demo_community
from services.intake.reports.schemas import IncidentCreate


def test_every_demo_report_is_valid_for_its_channel() -> None:
    bodies = list(itertools.islice(incidents.stream(), 2_000))
    reports = [IncidentCreate.model_validate(body) for body in bodies]
    assert {report.channel for report in reports} == {
        events.Channel(kind.channel) for kind in incidents.KINDS
    }


def test_a_patrol_report_names_an_officer_of_the_grid_where_it_was_seen() -> None:
    community = demo_community.generate()
    grid_of_member = {member.id: member.grid_id for member in community.members}
    grid_at_point = {(h.lat, h.lon): h.grid_id for h in community.households}
    patrols = [
        body for body in itertools.islice(incidents.stream(), 2_000) if body["channel"] == "patrol"
    ]
    assert patrols
    for body in patrols:
        seen_in = grid_at_point[body["location"]["lat"], body["location"]["lon"]]
        assert grid_of_member[body["reported_by"]] == seen_in
