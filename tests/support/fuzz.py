"""Schemathesis over a running service's OpenAPI document, with failures collected per operation."""

from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

MODES = [(GenerationMode.POSITIVE, 20), (GenerationMode.NEGATIVE, 10)]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
AnswerCheck = Callable[[schemathesis.Case, int], None]
# Headers that frame the HTTP message itself. A generated value for one of them (Hypothesis also
# draws strings found in our code, such as "content-length") makes a request that is not valid
# HTTP: the server's parser answers 400 before any application code runs, so it says nothing
# about the API's contract. test_malformed_http.py covers that answer on its own.
FRAMING = frozenset({"content-length", "transfer-encoding", "host", "connection"})


def fuzz(
    schema: schemathesis.BaseSchema,
    *,
    base_url: str,
    headers: dict[str, str],
    modes: list[tuple[GenerationMode, int]] = MODES,
    checks: list = CHECKS,  # type: ignore[type-arg]
    also: AnswerCheck | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Call every operation with generated requests; (operations tried, failures by label).

    Each operation gets a fixed number of valid and of invalid examples, no deadline each;
    `also` may add a check of its own on (case, status)."""
    failures: dict[str, str] = {}
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)
        for mode, examples in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def exercise(case: schemathesis.Case) -> None:
                assume(not FRAMING.intersection(name.lower() for name in case.headers or {}))
                response = case.call(base_url=base_url, headers=headers)
                case.validate_response(response, checks=checks)
                if also is not None:
                    also(case, response.status_code)

            try:
                exercise()
            except Unsatisfiable:
                pass  # nothing to make invalid: the operation takes no input
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - collected
                failures[f"{operation.label} ({mode.value})"] = str(failure)[:2000]
    return tried, failures


def report(failures: dict[str, str]) -> str:
    """Failures, one paragraph per operation."""
    return "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
