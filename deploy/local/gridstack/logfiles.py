"""Server log files: rotation, size, searching and tails for error messages."""

from __future__ import annotations

import os
from pathlib import Path

LOG_ROTATE_BYTES = 50 * 1024 * 1024


def rotate_log(path: Path) -> None:
    """Move a log aside once it grows large, keeping one old copy."""
    if path.exists() and path.stat().st_size > LOG_ROTATE_BYTES:
        os.replace(path, path.with_suffix(".log.1"))


def log_tail(path: Path, lines: int = 40) -> str:
    """Last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- last {lines} lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])


def log_contains(path: Path, offset: int, needle: str) -> bool:
    """True if the log contains needle after byte offset."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return needle in handle.read().decode(errors="replace")
    except OSError:
        return False


def log_size(path: Path) -> int:
    """Current size of a log file (0 if missing)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
