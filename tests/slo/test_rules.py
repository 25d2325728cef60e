"""slo_rules: Prometheus rules that promtool accepts and that compute what SSOps computes.

`promtool test rules` runs the generated rules over a synthetic day (an outage, a counter reset,
a scrape gap); the values it must find are computed by SSOps's own maths from the same samples.
"""

import io
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from slo import maths
from slo.models import SLO
from tests.services.prometheus import PROMTOOL, require_binary
from tests.slo import workload

pytestmark = pytest.mark.django_db

MINUTES = 1560
EVAL_MINUTES = [1380, 1392, 1410, 1470, 1560]
SERIES = {
    "200": 'http_requests_total{service="api",code="200"}',
    "500": 'http_requests_total{service="api",code="500"}',
}
GAP = range(1300, 1321)  # not scraped
OUTAGE = range(1385, 1406)  # 40 % errors
RESET = 1450  # the process restarts: both counters begin again


def samples() -> dict[str, list[float | None]]:
    values: dict[str, list[float | None]] = {"200": [], "500": []}
    good = bad = 0.0
    for minute in range(MINUTES + 1):
        if minute == RESET:
            good = bad = 0.0
        errors = 40.0 if minute in OUTAGE else 0.002
        good, bad = good + 100 - errors, bad + errors
        for code, value in (("200", good), ("500", bad)):
            values[code].append(None if minute in GAP else value)
    return values


def increase(values: list[float | None], end_minute: int, seconds: int) -> float | None:
    """maths.extrapolated_increase over the samples in [end - seconds, end]."""
    end = end_minute * 60_000
    start = end - seconds * 1000
    kept = [
        (i * 60_000, v)
        for i, v in enumerate(values)
        if v is not None and start <= i * 60_000 <= end
    ]
    return maths.extrapolated_increase([t for t, _ in kept], [v for _, v in kept], start, end)


def total(*parts: float | None) -> float | None:
    present = [p for p in parts if p is not None]
    return sum(present) if present else None


def occurrence_error(values, minute: int, seconds: int) -> float | None:
    bad = increase(values["500"], minute, seconds)
    everything = total(increase(values["200"], minute, seconds), bad)
    return maths.ratios(bad, everything, numerator_is_good=False)[1]


SLOS = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: api-availability, labels: {team: payments}}
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code="500"}'}}
        total:
          metricSource: {type: Prometheus, spec: {query: 'sum(http_requests_total)'}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
"""


def rules(*names: str) -> str:
    out = io.StringIO()
    call_command("slo_rules", *[f"--slo={n}" for n in names], stdout=out)
    return out.getvalue()


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    require_binary(PROMTOOL)
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_rules_of_every_kind_of_slo_pass_promtool_check(workload_slos, tmp_path):
    (tmp_path / "rules.yaml").write_text(rules())
    checked = promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    groups = yaml.safe_load((tmp_path / "rules.yaml").read_text())["groups"]
    assert len(groups) == SLO.objects.count()


def test_the_slo_window_is_event_weighted_not_a_mean_of_short_ratios(workload_slos):
    group = yaml.safe_load(rules("checkout-availability"))["groups"][0]
    (window,) = [r for r in group["rules"] if r.get("record") == "slo:sli_error:ratio_rate30d"]
    assert window["expr"] == (
        '(sum(increase(http_requests_total{service="checkout",code=~"5.."}[30d])) or vector(0))'
        ' / sum(increase(http_requests_total{service="checkout"}[30d]))'
    )
    assert "avg_over_time" not in window["expr"]


def expected_tests(values) -> dict:
    labels = 'service="api",slo="api-availability",team="payments"'
    expr_tests, alert_tests = [], []
    for minute in EVAL_MINUTES:
        burns = {}
        for window, seconds in maths.BURN_WINDOWS.items():
            err = occurrence_error(values, minute, seconds)
            burns[window] = maths.burn_rate(err, 0.99)
            record = f"slo:sli_error:ratio_rate{window}{{{labels}}}"
            # The value SSOps computes, to the last bit (promtool compares exactly).
            exp_samples = [] if err is None else [{"labels": record, "value": err}]
            expr_tests.append(
                {"expr": record, "eval_time": f"{minute}m", "exp_samples": exp_samples}
            )
        firing = [
            {
                "exp_labels": {
                    "severity": severity,
                    "slo": "api-availability",
                    "service": "api",
                    "team": "payments",
                },
                "exp_annotations": {
                    "summary": "SLO api-availability of api is burning its error budget"
                },
            }
            for severity in sorted({a.severity for a in maths.alerts_firing(burns, 86400)})
        ]
        alert_tests.append(
            {"eval_time": f"{minute}m", "alertname": "SLOErrorBudgetBurn", "exp_alerts": firing}
        )
    return {"promql_expr_test": expr_tests, "alert_rule_test": alert_tests}


def test_promtool_finds_what_ssops_maths_computes(slo_import, team, tmp_path):
    slo_import(SLOS)
    (tmp_path / "rules.yaml").write_text(rules())
    values = samples()
    input_series = [
        {
            "series": SERIES[code],
            "values": " ".join("_" if v is None else repr(v) for v in values[code]),
        }
        for code in SERIES
    ]
    suite = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input_series, **expected_tests(values)}],
    }
    fired = [t for t in suite["tests"][0]["alert_rule_test"] if t["exp_alerts"]]
    assert fired and len(fired) < len(EVAL_MINUTES)  # the scenario both fires and resolves
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    result = promtool("test", "rules", "test.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.mark.prometheus
def test_each_recorded_ratio_equals_slo_evaluate_on_the_real_prometheus(
    settings, prometheus, workload_slos
):
    """Every kind of SLO (Occurrences, Timeslices, RatioTimeslices, threshold): the rule
    expressions, run on the session's Prometheus, give slo_evaluate's figures."""
    settings.PROMETHEUS_URL = prometheus.url
    at = workload.OUTAGE[0] + 600
    assert recorded_ratios_equal_slo_evaluate(prometheus, at) >= 8 * 8


def test_the_rules_of_every_format_and_shape_pass_promtool_check(shape_slos, tmp_path):
    """Grouped SLOs and SLIs on the promql path included."""
    (tmp_path / "rules.yaml").write_text(rules())
    checked = promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    groups = yaml.safe_load((tmp_path / "rules.yaml").read_text())["groups"]
    assert len(groups) == SLO.objects.filter(parent=None).count()


@pytest.mark.prometheus
def test_each_recorded_ratio_of_every_shape_equals_slo_evaluate(settings, prometheus, shape_slos):
    """The rules, run on the session's Prometheus, give slo_evaluate's figures: per group for a
    grouped SLO (its series carry the group's labels), on both evaluation paths."""
    settings.PROMETHEUS_URL = prometheus.url
    assert recorded_ratios_equal_slo_evaluate(prometheus, workload.OUTAGE[0] + 630) >= 30 * 8


def recorded_ratios_equal_slo_evaluate(prometheus, at: float) -> int:
    """Run every recorded error ratio of slo_rules on Prometheus at `at` and compare it with
    slo_evaluate's figures (per group for a grouped SLO: its series carry the group's labels);
    returns how many were compared. Calendar windows are recorded as rolling ones: skipped."""
    out = io.StringIO()
    moment = datetime.fromtimestamp(at, UTC).isoformat()
    call_command("slo_evaluate", "--json", "--at", moment, stdout=out)
    results = {r["name"]: r for r in json.loads(out.getvalue())}
    checked = 0
    for group in yaml.safe_load(rules())["groups"]:
        slo = SLO.objects.get(name=group["rules"][0]["labels"]["slo"])
        if slo.window_kind == "calendar":
            continue
        own = {k: r for k, r in results.items() if k == slo.name or k.startswith(slo.name + "{")}
        for rule in group["rules"]:
            if not rule.get("record", "").startswith("slo:sli_error"):
                continue
            window = rule["record"].removeprefix("slo:sli_error:ratio_rate")
            found = {}
            for series in prometheus.query(rule["expr"], at):
                labels = ",".join(f'{k}="{series["metric"][k]}"' for k in slo.group_by)
                value = float(series["value"][1])
                found[f"{slo.name}{{{labels}}}" if labels else slo.name] = (
                    None if value != value else value  # NaN: no data
                )
            for name, result in own.items():
                if window in result["burn_rates"]:
                    burn = result["burn_rates"][window]
                    wanted = None if burn is None else burn * (1 - slo.objective)
                else:
                    wanted = None if result["sli"] is None else 1 - result["sli"]
                got = found.get(name)
                if wanted is None:
                    assert got is None, (name, window)
                else:
                    assert got == pytest.approx(wanted, rel=1e-9, abs=1e-15), (name, window)
                checked += 1
    return checked
