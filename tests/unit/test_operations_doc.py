"""docs/operations.md keeps up with what is exported and what can page."""

import yaml
from prometheus_client import REGISTRY

from tests.unit import promql_names

DOC = promql_names.ROOT / "docs" / "operations.md"
RULES = sorted((promql_names.ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))


def test_every_gridloop_metric_is_in_the_reference() -> None:
    promql_names.import_metric_modules()
    text = DOC.read_text()
    exposed = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in REGISTRY.collect()
        if family.name.startswith("gridloop_")
    }
    missing = sorted(name for name in exposed if f"`{name}`" not in text)
    assert not missing, f"docs/operations.md does not describe {missing}"


def test_every_alert_has_a_line_in_the_alerts_table() -> None:
    text = DOC.read_text()
    alerts = {
        rule["alert"]
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    missing = sorted(alert for alert in alerts if f"| {alert} (" not in text)
    assert not missing, f"docs/operations.md does not explain {missing}"
