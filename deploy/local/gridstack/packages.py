"""OS packages: find the Redis and PostgreSQL binaries, install what is missing on Debian."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .common import StackError, log


def redis_binary() -> str | None:
    """Path of redis-server, if installed."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def version_key(path: Path) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<version> directories."""
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (0,)


def pg_bindir() -> Path | None:
    """Highest PostgreSQL bin dir under /usr/lib/postgresql, else the one of pg_ctl on PATH."""
    candidates = [d for d in Path("/usr/lib/postgresql").glob("*") if (d / "bin/initdb").exists()]
    if candidates:
        return max(candidates, key=version_key) / "bin"
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl and (Path(pg_ctl).parent / "initdb").exists() else None


def missing_packages(services: list[str]) -> list[str]:
    """Debian packages needed for the given services that are not installed."""
    missing = []
    if "kafka" in services and not shutil.which("java"):
        missing.append("default-jre-headless")
    if "kafka" in services and not shutil.which("mvn"):
        missing.append("maven")
    if "redis" in services and not redis_binary():
        missing.append("redis-server")
    if "postgres" in services and not pg_bindir():
        missing.append("postgresql")
    return missing


def ensure_packages(services: list[str]) -> None:
    """Install missing OS packages when root on Debian; otherwise say what to install."""
    missing = missing_packages(services)
    if not missing:
        return
    command = "apt-get install -y " + " ".join(missing)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StackError(f"missing packages: {' '.join(missing)}\ninstall with: sudo {command}")
    log(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *missing]):
        if subprocess.run(cmd, stdout=sys.stderr, env=env, check=False).returncode != 0:
            raise StackError(f"{shlex.join(cmd)} failed")
    still = missing_packages(services)
    if still:
        raise StackError(f"still missing after install: {' '.join(still)}")
