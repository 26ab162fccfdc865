"""Failpoints: named places where a process can be told to die on purpose, to test recovery.

`GRIDLOOP_FAILPOINTS="consumer.before_commit=3"` makes the process exit at once (no shutdown,
no final commits, as `kill -9` would) the 3rd time it reaches that place. Unset, as in every
deployment, reaching a failpoint only counts nothing and returns.
"""

import functools
import logging
import os
import sys
from collections import Counter

ENV = "GRIDLOOP_FAILPOINTS"
EXIT_STATUS = 86
logger = logging.getLogger(__name__)
_arrivals: Counter[str] = Counter()


@functools.cache
def armed() -> dict[str, int]:
    """Failpoint name → the arrival that ends the process, read once from the environment."""
    points = {}
    for item in os.environ.get(ENV, "").split(","):
        name, _, arrival = item.strip().partition("=")
        if name:
            points[name] = int(arrival or 1)
    return points


def reach(name: str) -> None:
    """Count one arrival at `name`; end the process abruptly on the armed arrival."""
    arrival = armed().get(name)
    if arrival is None:
        return
    _arrivals[name] += 1
    if _arrivals[name] >= arrival:
        logger.critical("failpoint %s reached (arrival %d): exiting", name, _arrivals[name])
        sys.stderr.flush()
        os._exit(EXIT_STATUS)
