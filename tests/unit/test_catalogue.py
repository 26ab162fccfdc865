"""The category catalogue file: every category has complete, valid handling rules."""

import tomllib
from datetime import timedelta

import pytest

from services.common.categories import CATALOGUE
from services.dispatch.domain import catalogue
from services.dispatch.domain.calendar import Clock
from services.dispatch.settings import DEFAULT_CATALOGUE


def shipped() -> catalogue.Catalogue:
    with DEFAULT_CATALOGUE.open("rb") as file:
        return catalogue.parse(tomllib.load(file))


def test_every_shared_category_has_rules() -> None:
    rules = shipped().rules
    assert set(CATALOGUE) <= set(rules)


def test_urgent_public_order_counts_on_the_wall_clock_with_police_beside_the_lead() -> None:
    rules = shipped().for_category("night_nuisance")
    assert rules.clock == Clock.WALL
    assert rules.co_handler_roles == ("police",)
    assert rules.acknowledge == timedelta(minutes=30)


def test_legal_disputes_bring_a_legal_adviser() -> None:
    assert "legal_adviser" in shipped().for_category("property_dispute").co_handler_roles


def test_unknown_categories_in_the_file_are_refused() -> None:
    with pytest.raises(catalogue.CatalogueError, match="ufo"):
        catalogue.parse({"categories": {"ufo": {}}})


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ({"acknowledge": "soon"}, "not a duration"),
        ({"clock": "lunar"}, "unknown clock"),
        ({"warn_at": 1.5}, "warn_at"),
        ({"closing": "never"}, "closing"),
    ],
)
def test_bad_rules_are_refused_with_where_and_why(section: dict[str, object], says: str) -> None:
    with pytest.raises(catalogue.CatalogueError, match=says):
        catalogue.parse({"categories": {"clutter": section}})


def test_durations_read_as_people_write_them() -> None:
    assert catalogue.parse_duration("45s", where="x") == timedelta(seconds=45)
    assert catalogue.parse_duration("1.5h", where="x") == timedelta(minutes=90)
