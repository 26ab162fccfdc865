"""Schemathesis over intake's OpenAPI with valid credentials: no 5xx, only documented answers.

Bounded: a fixed number of valid and of invalid examples per operation, no deadline each.
"""

import pytest
import schemathesis

from tests.integration.intake import helpers
from tests.integration.intake.conftest import Stack
from tests.support import fuzz


@pytest.fixture(scope="module")
def intake_env(run_env: dict[str, str]) -> dict[str, str]:
    """No outbound callbacks: fuzzed URLs are stored, never called."""
    return {**run_env, **helpers.INTAKE_TEST_SETTINGS, "INTAKE_RUN_CALLBACK_WORKER": "false"}


@pytest.fixture(scope="module")
def intake_openapi(stack: Stack) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{stack.intake.url}/openapi.json")


@pytest.fixture(scope="module")
def credentials(stack: Stack) -> dict[str, str]:
    """A key for every channel and operation, generous enough not to be rate limited."""
    fuzzer = helpers.issue_key(stack, integrator_id="fuzzer", rate_limit_per_minute=100_000)
    return {**fuzzer.headers, **helpers.admin(stack.env)}


def test_intake_honours_its_openapi_document(
    intake_openapi: schemathesis.BaseSchema, stack: Stack, credentials: dict[str, str]
) -> None:
    tried, failures = fuzz.fuzz(intake_openapi, base_url=stack.intake.url, headers=credentials)
    assert len(tried) >= 15, tried
    assert not failures, fuzz.report(failures)
