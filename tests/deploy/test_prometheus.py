"""Alert rules and the Grafana dashboard against the metric contract (deploy/metrics.txt).

promtool (Debian's prometheus package; `make test` installs it) checks the rule file and
runs its unit tests, which feed series to the rules and expect alerts at given times; a
control run with a loosened threshold must fail them. Every PromQL expression of the rules
and of the dashboard is parsed for metric names, and each must be in the contract.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import ROOT

DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "alerts.test.yml"
DASHBOARD: dict[str, Any] = json.loads((DEPLOY / "grafana" / "onestop.json").read_text())
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")

# PromQL words that are not metric names: functions (followed by "("), aggregation
# modifiers and binary operators.
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "bool", "offset",
}  # fmt: skip
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGES = re.compile(r"\[[^\]]*\]")
_NUMBERS = re.compile(r"(?<![\w:])\d+(?:\.\d+)?(?:e[+-]?\d+|ms|[smhdwy])?(?![\w:])")
_NAMES = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*(?![A-Za-z0-9_:]|\s*\()")


def contract() -> dict[str, str]:
    """``{name: type}`` from deploy/metrics.txt."""
    rows = [
        line.split()
        for line in (DEPLOY / "metrics.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return {row[0]: row[1] for row in rows}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads (labels, functions, keywords removed)."""
    text = re.sub(r"\$\w+", "", expr)  # Grafana variables ($__rate_interval)
    for pattern in (_STRINGS, _MATCHERS, _GROUPING, _RANGES, _NUMBERS):
        text = pattern.sub(" ", text)
    return {name for name in _NAMES.findall(text) if name not in _KEYWORDS}


def unknown_names(names: set[str], also: frozenset[str] = frozenset()) -> set[str]:
    known = contract()
    allowed = set(also) | {
        name + suffix
        for name, kind in known.items()
        for suffix in (HISTOGRAM_SERIES if kind == "histogram" else ("",))
    }
    return names - allowed


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_targets() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in DASHBOARD["panels"]
        for target in panel.get("targets", [])
    ]


def promtool(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool not found: `make test` installs Debian's prometheus package"
    return subprocess.run(
        [binary, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_name_parser_finds_exactly_the_metrics() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (operation, le) (rate(onestop_x_bucket{le="0.5",'
        'code=~"A|B"}[$__rate_interval]))) / on(job) group_left sum without (pod) '
        "(rate(other_total[5m] offset 1h)) > 1e3 and bool ns:rule:rate5m"
    )
    assert metric_names(expr) == {"onestop_x_bucket", "other_total", "ns:rule:rate5m"}
    # …and a name outside the contract is reported.
    known = "sum(rate(onestop_http_requests_total[5m])) / sum(onestop_typo_total)"
    assert unknown_names(metric_names(known)) == {"onestop_typo_total"}


def test_promtool_accepts_the_rule_file() -> None:
    checked = promtool("check", "rules", RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules())} rules found" in checked.stdout


def test_the_rules_unit_tests_pass() -> None:
    tested = promtool("test", "rules", RULE_TESTS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_unit_tests_catch_a_wrong_error_ratio_threshold(tmp_path: Path) -> None:
    """The control: with the error-ratio alert at 50% instead of 5%, the unit test that
    expects it at 10% errors must fail, so it tests the expression, not just the file."""
    loosened = RULES.read_text().replace("> 0.05", "> 0.5", 1)
    alerts = [r for g in yaml.safe_load(loosened)["groups"] for r in g["rules"] if "alert" in r]
    assert alerts[0]["alert"] == "OneStopErrorRatioHigh" and "> 0.5" in alerts[0]["expr"]
    (tmp_path / "alerts.yml").write_text(loosened)
    shutil.copy(RULE_TESTS, tmp_path / "alerts.test.yml")
    tested = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert tested.returncode != 0
    assert "OneStopErrorRatioHigh" in tested.stdout + tested.stderr


def test_the_unit_tests_cover_the_issue_s_alerts() -> None:
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    }
    assert tested >= {
        "OneStopErrorRatioHigh",
        "OneStopLatencySLOFastBurn",
        "OneStopReadinessFlapping",
    }


def test_the_rules_read_only_contract_metrics() -> None:
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    for rule in rules():
        names = metric_names(rule["expr"])
        assert names, rule
        assert not unknown_names(names, frozenset(recorded)), rule.get("alert") or rule["record"]


def test_every_dashboard_expression_reads_only_contract_metrics() -> None:
    targets = dashboard_targets()
    assert len(targets) >= 20
    for title, expr in targets:
        names = metric_names(expr)
        assert names, title
        assert not unknown_names(names), f"{title}: {unknown_names(names)} not in metrics.txt"


@pytest.mark.parametrize(
    ("topic", "pattern"),
    [
        ("request rate", r"rate\(onestop_http_requests_total\["),
        ("error ratio", r"onestop_graphql_errors_total.*/.*onestop_graphql_operations_total"),
        (
            "p95 per operation",
            r"histogram_quantile\(0\.95, sum by \(operation, le\) "
            r"\(rate\(onestop_graphql_operation_duration_seconds_bucket",
        ),
        ("database time", r"onestop_mongodb_command_duration_seconds_sum"),
        ("cache hit ratio", r'onestop_response_cache_total\{result="hit"\}.*/'),
        ("in-flight", r"onestop_http_requests_in_flight"),
        ("subscriptions", r"onestop_subscriptions_active"),
    ],
)
def test_the_dashboard_shows(topic: str, pattern: str) -> None:
    assert any(re.search(pattern, expr) for _, expr in dashboard_targets()), topic


def test_the_dashboard_is_importable_grafana_json() -> None:
    assert DASHBOARD["uid"] and DASHBOARD["schemaVersion"] >= 36
    ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    for panel in DASHBOARD["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"


def test_every_alert_has_its_runbook_section() -> None:
    runbook = (ROOT / "docs" / "OPERATIONS.md").read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("#")
    }
    for rule in rules():
        if "alert" not in rule:
            continue
        url = rule["annotations"]["runbook_url"]
        assert url == f"docs/OPERATIONS.md#{rule['alert'].lower()}"
        assert rule["alert"].lower() in headings, f"no section for {rule['alert']}"
