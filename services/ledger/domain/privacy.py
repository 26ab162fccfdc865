"""What of a record people may see. Pure.

Officers' views (the incident API, exports) may show the masked phone but never the reporter
token; public views (stats, reports) carry no personal data at all: counts and rates only.
"""

from typing import Any

NEVER_SHOWN = frozenset({"reporter_token"})


def officer_view(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without the reporter's token (a keyed hash used only for matching)."""
    return {name: value for name, value in payload.items() if name not in NEVER_SHOWN}
