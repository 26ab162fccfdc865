"""The SQL conditions of the indicators, as text: what a case's stored counts rely on."""

import re

from services.ledger.adapters import indicator_cases, kpi_queries
from services.ledger.adapters.kpi_conditions import (
    BITS,
    MOMENTS,
    cohort_counts,
    counted_in,
    timings,
)
from services.ledger.domain.indicators import COUNT_NAMES

MOMENT = "the_moment"


def test_a_case_is_settled_once_every_time_compared_with_the_moment_has_passed() -> None:
    """settled_at is the latest of MOMENTS: it must name every column the counts and the
    timings compare with the moment, or a case would keep counts that can still change."""
    conditions = " ".join([*cohort_counts(MOMENT).values(), *timings(MOMENT).values()])
    compared = set(re.findall(rf"s\.(\w+) (?:<=|>=|<|>) {MOMENT}\b", conditions))
    assert compared == set(MOMENTS)
    for moment in MOMENTS:
        assert f"s.{moment}" in indicator_cases.DERIVED["settled_at"]


def test_every_cohort_count_has_its_own_bit() -> None:
    assert set(BITS) <= set(COUNT_NAMES)
    assert sorted(BITS.values()) == [1 << n for n in range(len(BITS))]
    assert max(BITS.values()) < 2**31  # an integer column
    for name, bit in BITS.items():
        assert f"then {bit} else 0" in counted_in(MOMENT), name


def test_the_stored_figures_are_the_conditions_judged_forever() -> None:
    stored = indicator_cases.DERIVATION
    assert counted_in("'infinity'::timestamptz") in stored
    for measure in kpi_queries.MEASURES:
        assert timings("'infinity'::timestamptz")[measure] in stored
    assert ":as_of" not in stored


def test_the_basis_names_every_setting_the_stored_figures_use() -> None:
    used = set(re.findall(r"(?<!:):(\w+)", indicator_cases.DERIVATION))  # binds, not casts
    assert used == set(indicator_cases.BASIS_BINDS)
