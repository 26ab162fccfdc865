"""JSON log lines carry the incident and event ids of the work they are written in."""

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from services.common import observability


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """A JSON handler, set up as configure_logging does, on a logger of its own."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.JsonFormatter())
    handler.addFilter(observability.ContextFilter())
    logger = logging.getLogger("test.log_context")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield stream
    logger.removeHandler(handler)


def written(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_lines_inside_a_context_carry_its_ids_and_lines_outside_do_not(
    lines: io.StringIO,
) -> None:
    logger = logging.getLogger("test.log_context")
    with observability.log_context(incident_id="inc-1", event_id="evt-1"):
        logger.info("assigned to %s", "P001")
    logger.info("no case here")
    inside, outside = written(lines)
    assert inside["incident_id"] == "inc-1" and inside["event_id"] == "evt-1"
    assert inside["message"] == "assigned to P001"
    assert "incident_id" not in outside and "event_id" not in outside


def test_an_inner_context_adds_to_the_outer_and_an_explicit_extra_wins(
    lines: io.StringIO,
) -> None:
    logger = logging.getLogger("test.log_context")
    with observability.log_context(event_id="evt-1"):
        with observability.log_context(incident_id="inc-2", event_id=None):
            logger.info("both")
        logger.info("explicit", extra={"incident_id": "inc-3"})
    both, explicit = written(lines)
    assert (both["incident_id"], both["event_id"]) == ("inc-2", "evt-1")
    assert (explicit["incident_id"], explicit["event_id"]) == ("inc-3", "evt-1")


async def test_concurrent_tasks_keep_their_own_ids(lines: io.StringIO) -> None:
    logger = logging.getLogger("test.log_context")

    async def work(incident: str) -> None:
        with observability.log_context(incident_id=incident):
            await asyncio.sleep(0.01)
            logger.info("working on %s", incident)

    await asyncio.gather(*(work(f"inc-{n}") for n in range(5)))
    for line in written(lines):
        assert line["message"] == f"working on {line['incident_id']}"


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, for configure_logging to set up; put back as it was afterwards."""
    root = logging.getLogger()
    libraries = [logging.getLogger(name) for name in ("aiokafka", "httpcore")]
    saved = root.handlers[:], root.level, [library.level for library in libraries]
    yield root
    root.handlers[:], level, library_levels = saved
    root.setLevel(level)
    for library, library_level in zip(libraries, library_levels, strict=True):
        library.setLevel(library_level)


def test_configure_logging_installs_the_context_filter(root: logging.Logger) -> None:
    observability.configure_logging("warning")
    (handler,) = root.handlers
    assert any(isinstance(f, observability.ContextFilter) for f in handler.filters)
    assert root.level == logging.WARNING


@pytest.mark.parametrize(
    ("level", "aiokafka", "httpcore"),
    [
        ("debug", logging.WARNING, logging.INFO),
        ("info", logging.WARNING, logging.INFO),
        ("error", logging.ERROR, logging.ERROR),
    ],
)
def test_debug_turns_on_gridloop_lines_but_not_the_libraries_own_tracing(
    root: logging.Logger, level: str, aiokafka: int, httpcore: int
) -> None:
    observability.configure_logging(level)
    assert root.level == logging.getLevelName(level.upper())
    assert logging.getLogger("services.intake.reports.handlers").isEnabledFor(root.level)
    assert logging.getLogger("aiokafka.consumer").getEffectiveLevel() == aiokafka
    assert logging.getLogger("httpcore.connection").getEffectiveLevel() == httpcore
