"""Grafana: the provisioned data source and dashboards are well formed and query real metrics.

Each query is checked three ways: its metric names are among those the services export (read
from the Prometheus registry, not from a list kept here), its Grafana variables are defined,
and promtool parses it (wrapped in a recording rule, variables filled in).
"""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit import promql_names

GRAFANA = promql_names.ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "gridloop.yml"
PANEL_TYPES = {"timeseries", "stat", "table", "bargauge", "barchart", "gauge", "text", "row"}
WANTED = {"pipeline", "community", "officers"}
VARIABLE = re.compile(r"\$\{?([A-Za-z_]\w*)")
Dashboard = dict[str, Any]


def load(path: Path) -> Dashboard:
    board = json.loads(path.read_text())
    assert isinstance(board, dict), f"{path.name} is not a JSON object"
    return board


@pytest.fixture(scope="module")
def dashboards() -> dict[str, Dashboard]:
    return {path.stem: load(path) for path in DASHBOARDS}


@pytest.fixture(scope="module")
def datasource_uid() -> str:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert source["type"] == "prometheus" and source.get("uid"), source
    assert source["url"].endswith("prometheus:9090"), "the data source is compose's prometheus"
    return str(source["uid"])


def panels(board: Dashboard) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def queries(board: Dashboard) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable."""
    found = [
        (f"panel {panel['title']!r} target {target['refId']}", target["expr"])
        for panel in panels(board)
        for target in panel.get("targets", [])
    ]
    for variable in board["templating"]["list"]:
        query = variable.get("query")
        text = query.get("query") if isinstance(query, dict) else query
        found.append((f"variable {variable['name']}", str(text)))
    return found


def variable_names(board: Dashboard) -> set[str]:
    return {variable["name"] for variable in board["templating"]["list"]}


def test_the_three_dashboards_are_there(dashboards: dict[str, Dashboard]) -> None:
    assert set(dashboards) >= WANTED, f"missing dashboards: {WANTED - set(dashboards)}"


def test_each_dashboard_has_a_unique_uid_title_and_the_gridloop_tag(
    dashboards: dict[str, Dashboard],
) -> None:
    uids = [board.get("uid") for board in dashboards.values()]
    assert len(set(uids)) == len(uids) and all(uids), f"uids must be unique and set: {uids}"
    for name, board in dashboards.items():
        assert 0 < len(board["uid"]) <= 40, f"{name}: Grafana uids are at most 40 characters"
        assert board.get("title") and isinstance(board.get("schemaVersion"), int), name
        assert "gridloop" in board.get("tags", []), f"{name} lacks the gridloop tag"
        assert isinstance(board["panels"], list) and board["panels"], f"{name} has no panels"


@pytest.mark.parametrize("name", sorted(WANTED))
def test_panels_are_well_formed_and_laid_out_without_overlap(
    dashboards: dict[str, Dashboard], datasource_uid: str, name: str
) -> None:
    board, taken = dashboards[name], set()
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), f"{name}: panel ids repeat"
    for panel in panels(board):
        where = f"{name} panel {panel.get('title')!r}"
        assert panel["type"] in PANEL_TYPES, f"{where}: unknown type {panel['type']}"
        position = panel["gridPos"]
        assert all(isinstance(position[k], int) for k in "xywh"), where
        assert position["w"] > 0 and position["h"] > 0, where
        assert position["x"] >= 0 and position["x"] + position["w"] <= 24, where
        cells = {
            (x, y)
            for x in range(position["x"], position["x"] + position["w"])
            for y in range(position["y"], position["y"] + position["h"])
        }
        assert not cells & taken, f"{where} overlaps another panel"
        taken |= cells
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == datasource_uid, f"{where}: another data source"
        targets = panel.get("targets") or []
        assert targets, f"{where} has no query"
        ref_ids = [target["refId"] for target in targets]
        assert len(ref_ids) == len(set(ref_ids)), f"{where}: refIds repeat"
        for target in targets:
            assert target["expr"].strip(), f"{where}: empty query"
            assert target.get("datasource", {}).get("uid", datasource_uid) == datasource_uid


@pytest.mark.parametrize("name", sorted(WANTED))
def test_queries_use_only_metric_names_the_services_export(
    dashboards: dict[str, Dashboard], name: str
) -> None:
    exported = promql_names.exported_names()
    board = dashboards[name]
    for where, expression in queries(board):
        label_values = promql_names.LABEL_VALUES.findall(expression)
        names = set(label_values) or promql_names.metric_names(
            promql_names.with_grafana_variables(expression, variable_names(board))
        )
        assert names, f"{name} {where} selects no metric: {expression}"
        unknown = names - exported
        assert not unknown, f"{name} {where} queries {sorted(unknown)}, which nothing exports"


@pytest.mark.parametrize("name", sorted(WANTED))
def test_every_variable_used_is_defined_and_every_defined_one_is_used(
    dashboards: dict[str, Dashboard], name: str
) -> None:
    board = dashboards[name]
    defined = variable_names(board)
    used = {
        variable
        for _, expression in queries(board)
        for variable in VARIABLE.findall(expression)
        if not variable.startswith("__")
    }
    assert used <= defined, f"{name} uses undefined variables {used - defined}"
    assert defined <= used, f"{name} defines unused variables {defined - used}"


def test_promtool_parses_every_dashboard_query(
    dashboards: dict[str, Dashboard], tmp_path: Path
) -> None:
    rules = []
    for name, board in sorted(dashboards.items()):
        for number, (_, expression) in enumerate(queries(board)):
            if promql_names.LABEL_VALUES.search(expression):
                continue
            filled = promql_names.with_grafana_variables(expression, variable_names(board))
            rules.append({"record": f"dashboard:{name}:q{number}", "expr": filled})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [promql_names.promtool(), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_loads_the_dashboards_folder_it_is_given() -> None:
    (provider,) = yaml.safe_load(PROVIDERS.read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"


def test_the_name_scanner_finds_selected_metrics_and_ignores_the_rest() -> None:
    expression = (
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{job="x", y=~"b|c"}[5m])))'
        " / on (route) group_left (z) b_total offset 5m > bool 3 and c unless time() - d"
    )
    assert promql_names.metric_names(expression) == {"a_bucket", "b_total", "c", "d"}
    assert promql_names.metric_names('sum(rate(x_total{a="sum(y)"}[$__rate_interval]))') == {
        "x_total"
    }


def test_an_unknown_metric_is_caught() -> None:
    exported = promql_names.exported_names()
    assert "gridloop_http_requests_total" in exported
    assert "gridloop_dispatch_decision_seconds_bucket" in exported
    assert "gridloop_http_requests" not in exported, "a counter is exposed only with _total"
    assert promql_names.metric_names("sum(gridloop_no_such_metric)") - exported == {
        "gridloop_no_such_metric"
    }
