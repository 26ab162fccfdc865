"""An integrator key for the tests that post reports through the shared `services` fixture."""

import pytest

from services.demo import integrator
from services.demo.processes import ServiceProcess


@pytest.fixture(scope="module")
def intake_key(services: dict[str, ServiceProcess], run_env: dict[str, str]) -> str:
    """A key for every channel and operation, issued with intake's CLI after intake started."""
    return integrator.provision_key(run_env, integrator="tests")["api_key"]
