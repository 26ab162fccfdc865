"""The services of one fault scenario as real processes, restarted as a scenario requires."""

import asyncio
import json
import time
from pathlib import Path

from services.common import failpoints
from services.demo.processes import ServiceProcess

READY_WITHIN_S = 120.0


class Deployment:
    """Named service processes (`dispatch`, `dispatch-2`, ...) sharing one scenario's settings."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.current: dict[str, ServiceProcess] = {}
        self._every: list[ServiceProcess] = []

    def load_demo(self) -> None:
        """The demo community and accounts in the scenario's database."""
        ServiceProcess("dispatch", self.env, self.log_dir, command="load-demo").run_to_completion()

    def url(self, name: str) -> str:
        return self.current[name].url

    async def start(
        self, name: str, *, service: str | None = None, failpoint: str | None = None
    ) -> ServiceProcess:
        """Start a process (on the port it had before, when restarted) and wait until ready."""
        env = {**self.env, failpoints.ENV: failpoint} if failpoint else self.env
        before = self.current.get(name)
        process = ServiceProcess(
            service or name.split("-")[0],
            env,
            self.log_dir,
            port=before.port if before else None,
        )
        self.current[name] = process
        self._every.append(process)
        await asyncio.to_thread(process.start, ready_within_s=READY_WITHIN_S)
        return process

    async def start_together(self, *names: str) -> None:
        """Start several processes at once (each one waits for its own readiness)."""
        await asyncio.gather(*(self.start(name) for name in names))

    async def kill(self, name: str) -> None:
        """SIGKILL one process."""
        await asyncio.to_thread(self.current[name].kill)

    async def stop(self, name: str) -> None:
        """SIGTERM one process (a consumer leaving its group cleanly)."""
        await asyncio.to_thread(self.current[name].stop)

    async def wait_exit(self, name: str, *, within_s: float) -> int:
        """Wait until a process has ended by itself (a failpoint); return its exit status."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            status = self.current[name].exit_status()
            if status is not None:
                return status
            await asyncio.sleep(0.2)
        raise AssertionError(f"{name} still running after {within_s} s:\n{self.log_tails(name)}")

    def log_tails(self, *names: str) -> str:
        """The end of these processes' logs (all when none named), for failure messages."""
        chosen = names or tuple(self.current)
        return "\n".join(f"--- {name}\n{self.current[name].log_tail(30)}" for name in chosen)

    def warnings(self, *, limit: int = 80) -> str:
        """Every process's warnings and errors, each distinct message once with its count and
        the times it was first and last logged; those logged last come last, and are kept."""
        seen: dict[tuple[str, str, str], tuple[str, str, int]] = {}
        for process in self._every:
            for line in process.log_tail(lines=None).splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("level") not in {"WARNING", "ERROR", "CRITICAL"}:
                    continue
                key = (process.name, entry.get("logger", ""), str(entry.get("message"))[:200])
                first, _, count = seen.get(key, (entry["time"], "", 0))
                seen[key] = (first, entry["time"], count + 1)
        lines = [
            f"{first[11:23]}..{last[11:23]} x{count} {name} {logger}: {message}"
            for (name, logger, message), (first, last, count) in sorted(
                seen.items(), key=lambda item: item[1][1]
            )
        ]
        return "\n".join(lines[-limit:]) or "(none)"

    def stop_all(self) -> None:
        """Stop every process this deployment started."""
        for process in self._every:
            process.stop()
