#!/usr/bin/env python3
"""Entry point of the local gridloop stack (Kafka, Redis, PostgreSQL); see README.md."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from gridstack.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
