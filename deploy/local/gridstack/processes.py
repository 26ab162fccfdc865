"""Processes: liveness, spawning detached servers, readiness waits, stopping and commands."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from .common import READY_CEILING, READY_TIMEOUT, STOP_TIMEOUT, StackError, log
from .logfiles import log_size, log_tail, rotate_log


def pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return not Path("/proc/self").exists()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    """Command line of a process, space separated ('' if unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def scan_pids(needle: str) -> list[int]:
    """Pids of live processes whose command line contains needle."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if needle in cmdline(int(entry.name)) and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until pid has exited; True if it did within timeout."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def signal_pid(pid: int, sig: int, group: bool) -> None:
    """Send sig to pid, or to its process group when it leads one; ignore vanished pids."""
    try:
        if group and os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def terminate(pid: int, name: str, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM a process (group) we started, SIGKILL it after timeout, and wait until gone."""
    log(f"{name}: stopping pid {pid}")
    signal_pid(pid, signal.SIGTERM, group=True)
    if wait_gone(pid, timeout):
        return
    log(f"{name}: still running after {timeout:.0f}s, sending SIGKILL")
    signal_pid(pid, signal.SIGKILL, group=True)
    if not wait_gone(pid, 10):
        raise StackError(f"{name}: pid {pid} survived SIGKILL")


def spawn(cmd: list[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start a detached server process (own session) logging to log_path."""
    with open(log_path, "ab") as out:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )


def wait_ready(
    name: str,
    ready: Callable[[], bool],
    alive: Callable[[], bool],
    log_path: Path,
    timeout: float = READY_TIMEOUT,
) -> None:
    """Poll ready() until true; fail with the log tail on exit, or once the server has been
    neither ready nor writing to its log for `timeout` seconds. A server still writing is busy
    starting (Kafka recovering thousands of partitions takes minutes), not stuck; even so it
    gets at most READY_CEILING seconds."""
    started = time.monotonic()
    deadline = started + timeout
    written = log_size(log_path)
    while not ready():
        if not alive():
            raise StackError(f"{name} exited during startup\n{log_tail(log_path)}")
        now, size = time.monotonic(), log_size(log_path)
        if size != written:
            written, deadline = size, min(now + timeout, started + READY_CEILING)
        if now > deadline:
            raise StackError(f"{name} not ready after {now - started:.0f}s\n{log_tail(log_path)}")
        time.sleep(0.25)


def launch(
    name: str, cmd: list[str], log_path: Path, pid_file: Path, ready: Callable[[int], bool]
) -> int:
    """Spawn a server, write its pid file and wait for ready(log offset); kill it on failure."""
    rotate_log(log_path)
    offset = log_size(log_path)
    proc = spawn(cmd, log_path, pid_file.parent)
    pid_file.write_text(f"{proc.pid}\n")
    try:
        wait_ready(name, lambda: ready(offset), lambda: proc.poll() is None, log_path)
    except StackError:
        if proc.poll() is None:
            terminate(proc.pid, name)
        raise
    log(f"{name}: ready (pid {proc.pid})")
    return proc.pid


def run(
    cmd: list[str],
    what: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    new_session: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command capturing its output; with check, raise StackError showing it on failure."""
    result = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        start_new_session=new_session,
        check=False,
    )
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise StackError(f"{what} failed (exit {result.returncode}): {shlex.join(cmd)}\n{output}")
    return result
