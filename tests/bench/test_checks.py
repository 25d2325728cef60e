"""The parts of the benchmarks that judge: the SLO benchmark's comparison of every figure with
its baseline's, and the report's targets and table."""

from __future__ import annotations

import copy
import importlib
import sys

import pytest

from tests.bench.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
slo_eval = importlib.import_module("slo_eval")
report = importlib.import_module("report")
Checks = importlib.import_module("_setup").Checks


def evaluation(name: str = "svc-00001-v1") -> dict:
    return {
        "name": name,
        "service": "svc-00001",
        "objective": 0.999,
        "window": "30d",
        "sli": 0.9995,
        "error_budget_remaining": 0.5,
        "burn_rates": {"5m": 20.0, "30m": 8.0, "1h": 15.0, "2h": 4.0, "6h": 7.0, "1d": 2.0}
        | {"3d": 0.5},
        "alerts": [
            {
                "severity": "page",
                "long_window": "1h",
                "short_window": "5m",
                "burn_rate_threshold": 14.4,
            }
        ],
        "data_status": "ok",
    }


def compared(mine: dict, theirs: dict) -> tuple[float, list[str]]:
    checks = Checks()
    worst = slo_eval.compare([mine], {theirs["name"]: theirs}, checks)
    return worst, checks.failed


def test_identical_answers_agree():
    assert compared(evaluation(), evaluation()) == (0.0, [])


def test_a_burn_rate_off_by_more_than_the_tolerance_is_a_disagreement():
    theirs = evaluation()
    theirs["burn_rates"]["6h"] *= 1 + 1e-5
    worst, failed = compared(evaluation(), theirs)
    assert worst == pytest.approx(1e-5, rel=1e-3)
    assert len(failed) == 1 and "burn 6h" in failed[0]


def test_a_difference_within_the_tolerance_is_reported_but_agrees():
    theirs = evaluation()
    theirs["sli"] = 1 - (1 - theirs["sli"]) * (1 + 1e-8)
    worst, failed = compared(evaluation(), theirs)
    assert failed == [] and 0 < worst < 1e-6


def test_no_data_on_one_side_only_is_a_disagreement():
    theirs = evaluation()
    theirs["burn_rates"]["5m"] = None
    _, failed = compared(evaluation(), theirs)
    assert failed == ["svc-00001-v1 burn 5m: 20.0 vs None"]


def test_alerts_must_agree_exactly():
    theirs = copy.deepcopy(evaluation())
    theirs["alerts"] = []
    _, failed = compared(evaluation(), theirs)
    assert any("alerts" in message for message in failed)
    theirs = evaluation()
    theirs["alerts"][0]["burn_rate_threshold"] = 14.5
    _, failed = compared(evaluation(), theirs)
    assert any("threshold" in message for message in failed)


def test_a_missing_baseline_answer_is_a_disagreement():
    checks = Checks()
    slo_eval.compare([evaluation()], {}, checks)
    assert "no baseline answer" in " ".join(checks.failed)


@pytest.mark.parametrize(
    ("op", "target", "value", "met"),
    [
        (">=", 0.5, 0.5, True),
        (">=", 0.5, 0.49, False),
        ("<", 5, 5, False),
        ("<=", 300, 300, True),
        ("==", 0, 0, True),
        ("is", True, False, False),
        (">=", 5, None, None),
    ],
)
def test_a_target_is_met_or_not(op, target, value, met):
    assert report.Target("figure", op, target).met(value) is met


def test_the_table_shows_missed_targets_and_failed_runs():
    runs = [
        {
            "bench": "audit",
            "database": "sqlite",
            "exit_status": 0,
            "figures": {"append_ratio": 0.3, "append_per_s": 1500},
            "targets": [{"figure": "append_ratio", "target": ">= 0.5", "value": 0.3, "met": False}],
            "shown": ["append_per_s"],
        },
        {
            "bench": "slo_eval",
            "database": "sqlite",
            "exit_status": 1,
            "load_average": [1.5, 3.25],
            "figures": {"speedup": 6.0},
            "targets": [{"figure": "speedup", "target": ">= 5", "value": 6.0, "met": True}],
            "shown": [],
        },
    ]
    machine = {
        "cores": 2,
        "cpu_model": "AMD EPYC",
        "memory_gb": 23.5,
        "python": "3.11.7",
        "databases": {"sqlite": "3.40.1"},
        "load_average_at_start": [1.0, 1.0, 1.0],
    }
    text = report.table(
        {
            "generated_at": "2026-01-01 00:00 UTC",
            "commit": "abc1234",
            "mode": "quick",
            "machine": machine,
            "runs": runs,
            "load_average_at_end": [2.0, 2.0, 2.0],
        }
    )
    lines = text.splitlines()
    assert any(line.split()[:4] == ["audit", "sqlite", "append_ratio", "0.3"] for line in lines)
    assert any(line.endswith("NO") and "append_ratio" in line for line in lines)
    assert any("1,500" in line for line in lines)
    assert any(line.startswith("slo_eval") and line.endswith("FAILED  1.5→3.25") for line in lines)
    assert "2 cores (AMD EPYC)" in text and "load average 1.0 at start, 2.0 at end" in text
