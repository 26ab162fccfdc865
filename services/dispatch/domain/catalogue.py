"""The handling rules per category, parsed from the catalogue configuration. Pure."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.common.categories import CATALOGUE as CATEGORY_CODES
from services.dispatch.domain.calendar import Clock, WorkCalendar

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
CLOSINGS = {"feedback_or_inspection", "inspection", "feedback"}


class CatalogueError(ValueError):
    """The catalogue configuration is invalid; the message says where."""


@dataclass(frozen=True)
class HandlingRules:
    category: str
    clock: Clock
    acknowledge: timedelta
    resolve: timedelta
    warn_at: float
    skills: frozenset[str]
    co_handler_roles: tuple[str, ...]
    closing: str


@dataclass(frozen=True)
class Catalogue:
    calendar: WorkCalendar
    rules: Mapping[str, HandlingRules]

    def for_category(self, category: str) -> HandlingRules:
        """The rules of a category (unknown categories get the defaults)."""
        return self.rules.get(category) or self.rules["*"]


def parse_duration(text: str, *, where: str) -> timedelta:
    """'45s', '30m', '2h', '3d' → timedelta."""
    match = DURATION.match(str(text).strip())
    if not match:
        raise CatalogueError(f"{where}: {text!r} is not a duration like 30m, 2h or 3d")
    return timedelta(**{UNITS[match.group(2)]: float(match.group(1))})


def parse(config: Mapping[str, Any]) -> Catalogue:
    """Build the catalogue from a parsed configuration (e.g. the TOML file)."""
    defaults = dict(config.get("defaults", {}))
    sections: dict[str, Mapping[str, Any]] = dict(config.get("categories", {}))
    unknown = sorted(set(sections) - set(CATEGORY_CODES))
    if unknown:
        raise CatalogueError(f"categories not in the shared catalogue: {', '.join(unknown)}")
    rules = {"*": _rules("*", defaults, where="defaults")}
    for code in CATEGORY_CODES:
        rules[code] = _rules(code, {**defaults, **sections.get(code, {})}, where=code)
    return Catalogue(calendar=_calendar(config.get("calendar", {})), rules=rules)


def _rules(code: str, section: Mapping[str, Any], *, where: str) -> HandlingRules:
    try:
        clock = Clock(section.get("clock", Clock.WORKING_HOURS))
    except ValueError as error:
        raise CatalogueError(f"{where}: unknown clock {section.get('clock')!r}") from error
    closing = section.get("closing", "feedback_or_inspection")
    if closing not in CLOSINGS:
        raise CatalogueError(f"{where}: closing must be one of {sorted(CLOSINGS)}")
    warn_at = float(section.get("warn_at", 0.75))
    if not 0 < warn_at < 1:
        raise CatalogueError(f"{where}: warn_at must be between 0 and 1")
    return HandlingRules(
        category=code,
        clock=clock,
        acknowledge=parse_duration(section.get("acknowledge", "2h"), where=f"{where}.acknowledge"),
        resolve=parse_duration(section.get("resolve", "16h"), where=f"{where}.resolve"),
        warn_at=warn_at,
        skills=frozenset(section.get("skills", ())),
        co_handler_roles=tuple(section.get("co_handlers", ())),
        closing=closing,
    )


def _calendar(section: Mapping[str, Any]) -> WorkCalendar:
    try:
        periods = tuple(
            (time.fromisoformat(span.split("-")[0]), time.fromisoformat(span.split("-")[1]))
            for span in section.get("periods", ["08:30-12:00", "14:00-17:30"])
        )
        return WorkCalendar(
            timezone=ZoneInfo(section.get("timezone", "Asia/Shanghai")),
            periods=periods,
            weekdays=frozenset(day - 1 for day in section.get("weekdays", [1, 2, 3, 4, 5])),
            holidays=frozenset(date.fromisoformat(d) for d in section.get("holidays", [])),
            extra_workdays=frozenset(
                date.fromisoformat(d) for d in section.get("extra_workdays", [])
            ),
        )
    except (ValueError, IndexError, KeyError) as error:
        raise CatalogueError(f"calendar: {error}") from error
