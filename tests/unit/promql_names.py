"""What the dashboards and alert rules may query: the metric names the services really export.

Exported names come from the Prometheus registry after importing every `services/*/metrics.py`
(and the shared observability module), expanded by type the way the exposition format writes
them: a counter `x` is `x_total` (and `x_created`), a histogram `h` is `h_bucket`, `h_sum`,
`h_count` (and `h_created`). Names used in PromQL are found by a small scanner that drops
strings, label matchers, ranges, grouping clauses, keywords and function calls.
"""

import importlib
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
ENSURE_PROMTOOL = ROOT / "deploy" / "prometheus" / "ensure-promtool.sh"
# Series Prometheus makes itself for every target.
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "unknown": ("",),
}
KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "inf",
    "nan",
}
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
MATCHERS = re.compile(r"\{[^{}]*\}")
RANGE = re.compile(r"\[[^\[\]]*\]")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
OFFSET = re.compile(r"\boffset\s+-?[0-9a-z]+")
NAME = re.compile(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_VALUES = re.compile(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}


def import_metric_modules() -> list[str]:
    """Import the shared observability module and every service's metrics module."""
    modules = ["services.common.observability", "services.common.metrics"]
    modules += [
        f"services.{path.parent.name}.metrics"
        for path in sorted((ROOT / "services").glob("*/metrics.py"))
    ]
    for module in modules:
        importlib.import_module(module)
    return modules


def exported_names() -> set[str]:
    """Every series name the services' registry can expose, suffixes included."""
    import_metric_modules()
    names = set(PROMETHEUS_OWN)
    for family in REGISTRY.collect():
        for suffix in SUFFIXES[family.type]:
            names.add(family.name + suffix)
    return names


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    text = STRING.sub('""', expression)
    text = MATCHERS.sub(" ", text)
    text = RANGE.sub(" ", text)
    text = GROUPING.sub(" ", text)
    text = OFFSET.sub(" ", text)
    names = set()
    for match in NAME.finditer(text):
        word = match.group()
        if word in KEYWORDS or text[match.end() :].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def with_grafana_variables(expression: str, variables: Iterable[str] = ()) -> str:
    """The expression as Prometheus would receive it: Grafana's variables filled in."""
    for name, value in GRAFANA_VARIABLES.items():
        expression = expression.replace(name, value)
    for name in sorted(variables, key=len, reverse=True):
        expression = expression.replace(f"${{{name}}}", ".*").replace(f"${name}", ".*")
    return expression


def promtool() -> str:
    """A working promtool, installed from the OS package if missing (see ensure-promtool.sh)."""
    result = subprocess.run(
        ["sh", str(ENSURE_PROMTOOL)], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"no promtool:\n{result.stderr}"
    return result.stdout.strip().splitlines()[-1]
