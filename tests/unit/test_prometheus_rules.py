"""The Prometheus configuration and alert rules: promtool accepts them, and their tests pass.

promtool comes from the OS package `prometheus` (deploy/prometheus/ensure-promtool.sh takes
only the promtool binary from it, so no Prometheus server is installed or started).
"""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from tests.unit import promql_names

PROMETHEUS = promql_names.ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
REQUIRED_ALERTS = {
    "GridloopServiceDown",
    "GridloopConsumerLagGrowing",
    "GridloopDeadLetters",
    "GridloopDeadlineBreaches",
    "GridloopLedgerChainBroken",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    return promql_names.promtool()


def run(promtool: str, *arguments: str | Path, stdin: str | None = None) -> str:
    result = subprocess.run(
        [promtool, *map(str, arguments)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
        cwd=PROMETHEUS,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"promtool {' '.join(map(str, arguments))} failed:\n{output}"
    return output


def rules() -> list[dict[str, Any]]:
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found.extend(group["rules"])
    return found


def test_there_are_rule_files_and_rule_tests() -> None:
    assert RULE_FILES, "deploy/prometheus/rules/*.yml is missing"
    assert RULE_TESTS, "deploy/prometheus/tests/*.yml is missing"


def test_the_rules_pass_promtool_check_rules(promtool: str) -> None:
    output = run(promtool, "check", "rules", "--lint=all", "--lint-fatal", *RULE_FILES)
    assert "SUCCESS" in output


def test_the_scrape_configuration_passes_promtool_check_config(promtool: str) -> None:
    run(promtool, "check", "config", "--lint=all", "--lint-fatal", "prometheus.yml")


def test_the_rule_unit_tests_pass(promtool: str) -> None:
    output = run(promtool, "test", "rules", *RULE_TESTS)
    assert "SUCCESS" in output and "FAILED" not in output


def test_promtool_test_rules_fails_a_wrong_expectation(promtool: str, tmp_path: Path) -> None:
    """The rule tests can fail: a copy expecting a service-down alert too early is refused."""
    expected = {"severity": "critical", "job": "intake", "instance": "i"}
    wrong = {
        "rule_files": [str(path) for path in RULE_FILES],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": 'up{job="intake", instance="i"}', "values": "1 0 0"}],
                "alert_rule_test": [
                    {
                        "eval_time": "1m",
                        "alertname": "GridloopServiceDown",
                        "exp_alerts": [{"exp_labels": expected}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "wrong.test.yml"
    path.write_text(yaml.safe_dump(wrong))
    result = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr


def test_the_issue_s_alerts_exist_with_a_severity_and_a_summary() -> None:
    alerts = {rule["alert"]: rule for rule in rules() if "alert" in rule}
    assert REQUIRED_ALERTS <= set(alerts), f"missing: {REQUIRED_ALERTS - set(alerts)}"
    for name, rule in alerts.items():
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}, name
        assert rule.get("annotations", {}).get("summary"), f"{name} has no summary"


def test_every_alert_is_unit_tested_firing() -> None:
    fired = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert alerts <= fired, f"alerts never shown firing in a test: {sorted(alerts - fired)}"


def test_the_rules_query_only_metrics_the_services_export() -> None:
    exported = promql_names.exported_names()
    for rule in rules():
        unknown = promql_names.metric_names(rule["expr"]) - exported
        assert not unknown, f"{rule.get('alert') or rule.get('record')} queries {unknown}"


def test_the_services_exposition_passes_promtool_check_metrics(promtool: str) -> None:
    promql_names.import_metric_modules()
    run(promtool, "check", "metrics", stdin=generate_latest().decode())
