"""The evaluation indicators: counts in, rates out, each with its formula. Pure.

Names and formulas follow the digital city management evaluation (处置率, 结案率, …) and the
12345 hotline assessment (响应率, 解决率, 满意率); docs/indicators.md defines every count.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

BASICALLY_SATISFIED_WEIGHT = 0.9


@dataclass(frozen=True)
class Counts:
    """What the indicators are computed from, for one scope and period (see cohort.py)."""

    registered: int = 0
    cancelled: int = 0
    due: int = 0
    handled: int = 0
    handled_on_time: int = 0
    closed: int = 0
    closed_on_time: int = 0
    reworked: int = 0
    extended: int = 0
    response_due: int = 0
    responded_on_time: int = 0
    verified: int = 0
    verified_passed: int = 0
    rated: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    unsatisfied: int = 0
    transferred_out: int = 0
    resolved_locally: int = 0
    disputes_transferred_out: int = 0
    disputes_resolved_locally: int = 0
    assigned_cases: int = 0
    members: int = 0
    overdue_open: int = 0
    households_on_record: int = 0
    households_touched: int = 0
    closed_in_period: int = 0
    recurred: int = 0

    @property
    def due_to_close(self) -> int:
        """应结案数: a case can be closed once it has been handled."""
        return self.handled


COUNT_NAMES = tuple(f.name for f in fields(Counts))


@dataclass(frozen=True)
class Timings:
    """Seconds from first assignment to acceptance, and from report to first resolution."""

    acknowledge_median_s: float | None = None
    acknowledge_p90_s: float | None = None
    resolve_median_s: float | None = None
    resolve_p90_s: float | None = None


@dataclass(frozen=True)
class Indicator:
    name: str
    title: str
    formula: str
    numerator: Callable[[Counts], float]
    denominator: Callable[[Counts], int]


@dataclass(frozen=True)
class Value:
    """One indicator's value (None when its denominator is zero) and what it came from."""

    name: str
    title: str
    formula: str
    value: float | None
    numerator: float
    denominator: int


def _satisfaction(c: Counts) -> float:
    return c.satisfied + BASICALLY_SATISFIED_WEIGHT * c.basically_satisfied


INDICATORS: tuple[Indicator, ...] = (
    Indicator("handling_rate", "处置率", "handled / due", lambda c: c.handled, lambda c: c.due),
    Indicator(
        "on_time_handling_rate",
        "按期处置率",
        "handled_on_time / due",
        lambda c: c.handled_on_time,
        lambda c: c.due,
    ),
    Indicator(
        "closure_rate", "结案率", "closed / due_to_close", lambda c: c.closed, lambda c: c.handled
    ),
    Indicator(
        "on_time_closure_rate",
        "按期结案率",
        "closed_on_time / due_to_close",
        lambda c: c.closed_on_time,
        lambda c: c.handled,
    ),
    Indicator(
        "rework_rate",
        "返工率",
        "reworked / due_to_close",
        lambda c: c.reworked,
        lambda c: c.handled,
    ),
    Indicator("extension_rate", "延期率", "extended / due", lambda c: c.extended, lambda c: c.due),
    Indicator(
        "response_rate",
        "响应率",
        "responded_on_time / response_due",
        lambda c: c.responded_on_time,
        lambda c: c.response_due,
    ),
    Indicator(
        "resolution_rate",
        "解决率",
        "verified_passed / verified",
        lambda c: c.verified_passed,
        lambda c: c.verified,
    ),
    Indicator(
        "satisfaction_rate",
        "满意率",
        "(satisfied + 0.9 × basically_satisfied) / rated",
        _satisfaction,
        lambda c: c.rated,
    ),
    Indicator(
        "local_resolution_rate",
        "就地化解率",
        "resolved_locally / (resolved_locally + transferred_out)",
        lambda c: c.resolved_locally,
        lambda c: c.resolved_locally + c.transferred_out,
    ),
    Indicator(
        "dispute_local_resolution_rate",
        "矛盾纠纷就地化解率",
        "disputes_resolved_locally / (disputes_resolved_locally + disputes_transferred_out)",
        lambda c: c.disputes_resolved_locally,
        lambda c: c.disputes_resolved_locally + c.disputes_transferred_out,
    ),
    Indicator(
        "linked_household_coverage",
        "1+10联系覆盖率",
        "households_touched / households_on_record",
        lambda c: c.households_touched,
        lambda c: c.households_on_record,
    ),
    Indicator(
        "recurrence_rate",
        "重复发生率",
        "recurred / closed_in_period",
        lambda c: c.recurred,
        lambda c: c.closed_in_period,
    ),
)
BY_NAME: dict[str, Indicator] = {indicator.name: indicator for indicator in INDICATORS}


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator rounded to 4 places; None when there is nothing to divide by."""
    return None if denominator == 0 else round(numerator / denominator, 4)


def evaluate(counts: Counts) -> dict[str, Value]:
    """Every indicator's value for these counts."""
    values = {}
    for indicator in INDICATORS:
        numerator, denominator = indicator.numerator(counts), indicator.denominator(counts)
        values[indicator.name] = Value(
            name=indicator.name,
            title=indicator.title,
            formula=indicator.formula,
            value=ratio(numerator, denominator),
            numerator=numerator,
            denominator=denominator,
        )
    return values


def cases_per_member(counts: Counts) -> float | None:
    """Cases with a lead handler, per distinct lead handler."""
    return ratio(counts.assigned_cases, counts.members)


def composite(values: Mapping[str, Value], weights: Mapping[str, float]) -> float | None:
    """Σ weight × value / Σ weight, over the weighted indicators that have a value."""
    present = {name: w for name, w in weights.items() if values[name].value is not None}
    total = sum(present.values())
    if total == 0:
        return None
    score = sum(w * (values[name].value or 0.0) for name, w in present.items())
    return round(score / total, 4)


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights must name indicators and be non-negative, with a positive sum."""
    unknown = sorted(set(weights) - set(BY_NAME))
    if unknown:
        raise ValueError(f"unknown indicators in the weights: {unknown}; known: {list(BY_NAME)}")
    if any(weight < 0 for weight in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    return dict(weights)
