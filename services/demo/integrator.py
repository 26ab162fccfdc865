"""An integrator key for the demo feeder and the tests, issued through intake's own CLI."""

import json
import subprocess
import sys

from services.demo.processes import ROOT


def provision_key(
    env: dict[str, str],
    *,
    integrator: str,
    channels: str | None = None,
    operations: str | None = None,
    extra: tuple[str, ...] = (),
) -> dict[str, str]:
    """Run `python -m services.intake create-key` and return what it issued (key shown once)."""
    command = [sys.executable, "-m", "services.intake", "create-key", "--integrator", integrator]
    if channels:
        command += ["--channels", channels]
    if operations:
        command += ["--operations", operations]
    result = subprocess.run(
        [*command, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"create-key failed:\n{result.stderr[-2000:]}")
    issued: dict[str, str] = json.loads(result.stdout)
    return issued
