"""Service processes: real `python -m services.X serve` children, for the demo and the tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServiceProcess:
    """One service in its own process, with its log kept for failure reports."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        log_dir: Path,
        *,
        command: str = "serve",
        port: int | None = None,
    ) -> None:
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        prefix = name.upper()
        self.env = {
            **os.environ,
            **env,
            f"{prefix}_HOST": "127.0.0.1",
            f"{prefix}_PORT": str(self.port),
        }
        self._command = command
        self._log_path = log_dir / f"{name}-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, *, ready_within_s: float = 60) -> "ServiceProcess":
        """Start the process and wait until /readyz says ready."""
        self.starts += 1
        log = self._log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}", self._command],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.wait_ready(ready_within_s)
        return self

    def wait_ready(self, within_s: float) -> None:
        """Poll /readyz until 200; fail with the log tail if the process dies or time runs out."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready in {within_s} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int | None:
        """The running process's id, or None when it is not running."""
        running = self._process is not None and self._process.poll() is None
        return self._process.pid if running and self._process else None

    def exit_status(self) -> int | None:
        """The exit status once the process has ended; None while it runs (or never ran)."""
        return self._process.poll() if self._process else None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commits."""
        if self._process and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self._process and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int | None = 60) -> str:
        """The end of this service's log (all of it when `lines` is None)."""
        if not self._log_path.exists():
            return "(no log)"
        kept = self._log_path.read_text(errors="replace").splitlines()
        return "\n".join(kept if lines is None else kept[-lines:])

    def run_to_completion(self, *, within_s: float = 120) -> None:
        """Run a one-shot command (e.g. load-demo) and fail with its log if it fails."""
        with self._log_path.open("ab") as log:
            result = subprocess.run(
                [sys.executable, "-m", f"services.{self.name}", self._command],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=within_s,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"{self.name} {self._command} failed:\n{self.log_tail()}")
