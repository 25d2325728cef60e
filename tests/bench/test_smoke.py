"""Every benchmark in its smoke mode, so that none of them rots: a tiny run through every step,
on this pass's database, that must end with its figures and with every check of its answers
passed (figures are not judged here: machines are noisy)."""

from __future__ import annotations

import pytest

from tests.bench.conftest import on_postgres, postgres_server


def database_arguments() -> list[str]:
    return ["--postgres", postgres_server()] if on_postgres() else []


def assert_ran(result, *figures: str) -> dict:
    status, found, stderr = result
    assert status == 0, stderr[-3000:]
    assert found is not None and found["checks_failed"] == 0, stderr[-3000:]
    for figure in figures:
        assert found.get(figure) is not None, (figure, found)
    return found


def test_audit(run_bench):
    found = assert_ran(
        run_bench("audit", "--smoke", *database_arguments()),
        "append_ratio",
        "table_ratio",
        "append_over_table_ratio",
        "verify_ratio",
    )
    assert found["database"] == ("postgresql" if on_postgres() else "sqlite")
    assert found["events"] == 2_000 and found["verify_processes"] >= 1


def test_catalog_http(run_bench):
    found = assert_ran(
        run_bench("catalog_http", "--smoke", *database_arguments()),
        "submit_rps",
        "write_rps",
        "ratio",
        "submit_p95_ms",
        "policy_p99_ms",
    )
    assert found["errors"] == 0 and found["submit_calls"] > 0 and found["write_calls"] > 0
    # keep-alive: one connection per client, not one per call
    assert found["connections_opened"] == 2 * found["clients"]


def test_dashboards(run_bench):
    found = assert_ran(
        run_bench("dashboards", "--smoke", *database_arguments()),
        "max_warm_p95_ms",
        "max_cold_p95_ms",
    )
    for page in ("executive_30d", "executive_90d", "oncall", "debug", "slo", "audit"):
        assert 0 < found[f"{page}_warm_p95_ms"] <= found["max_warm_p95_ms"], page


@pytest.mark.once
def test_slo_eval(run_bench):
    found = assert_ran(
        run_bench("slo_eval", "--smoke"), "seconds", "naive_seconds", "speedup", "max_rel_diff"
    )
    assert found["slos"] == 30 and found["metrics"] == 12 and found["answers"] == 34
    assert found["mix"]["formats"] == {"openslo": 16, "sloth": 10, "pyrra": 2, "sloth_k8s": 2}
    assert found["mix"]["paths"] == {"exact": 20, "promql": 10} and found["mix"]["grouped"] == 4
    assert 0 < found["queries"] < found["naive_queries"]
    assert found["promql_batched"] is True


@pytest.mark.once
@pytest.mark.once
def test_backtest(run_bench):
    found = assert_ran(run_bench("backtest", "--smoke"), "exact_seconds", "promql_seconds")
    assert found["days"] == 2 and found["paths_agree"] is True
    assert found["moments"] == 2 * 1440 + 1


def test_platform_metrics(run_bench):
    assert_ran(run_bench("platform_metrics", "--smoke"), "month_seconds", "import_rows_per_s")


@pytest.mark.postgres
@pytest.mark.redis
def test_provisioning(run_bench):
    found = assert_ran(
        run_bench("provisioning", "--smoke", "--postgres", postgres_server()), "p95_seconds"
    )
    assert found["requests"] == 2
