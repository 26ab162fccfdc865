"""Kafka broker jars: the Java version check and the classpath resolved with Maven."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .common import StackError, log
from .processes import run
from .state import cache_dir

KAFKA_VERSION = "4.1.1"
POM_PATH = Path(__file__).resolve().parents[1] / "kafka" / "pom.xml"


def java_major() -> int:
    """Major version of the java on PATH."""
    result = run(["java", "-version"], "java -version")
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        raise StackError(f"cannot parse java -version output:\n{result.stderr}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def require_java17() -> None:
    """Fail unless the java on PATH can run Kafka 4."""
    if java_major() < 17:
        raise StackError("Kafka 4 needs Java 17+: sudo apt-get install -y openjdk-17-jre-headless")


def classpath_valid(path: Path) -> bool:
    """True if the cached classpath file exists and every jar it lists exists."""
    try:
        entries = [e for e in path.read_text().strip().split(os.pathsep) if e]
    except OSError:
        return False
    return bool(entries) and all(Path(entry).is_file() for entry in entries)


def kafka_classpath() -> str:
    """Broker classpath, resolved with Maven from the committed pom when not cached."""
    target = cache_dir() / f"kafka-{KAFKA_VERSION}" / "classpath.txt"
    if not classpath_valid(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        log(f"kafka: resolving Kafka {KAFKA_VERSION} jars with Maven (first run may take a while)")
        cmd = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(POM_PATH),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={tmp}",
        ]
        run(cmd, "mvn dependency:build-classpath")
        os.replace(tmp, target)
        if not classpath_valid(target):
            raise StackError(f"mvn wrote {target} but some listed jars do not exist")
    return target.read_text().strip()
