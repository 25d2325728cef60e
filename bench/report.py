"""`./run bench`: every benchmark with --quick, one report.

Runs each benchmark (on the databases it is meant for) as its own process, reads the JSON
object each prints as its last line, compares the figures that have a target with it, and
writes var/bench/report.json — the figures, each target and whether it was met, each run's exit
status and time, and the machine (cores, CPU model, Python, databases, load) — then prints the
report as a table. The exit status is 1 when a benchmark failed (crashed, or found that its
answers disagree with its baseline's); a missed target is reported, not a failure: on a shared
machine figures are noisy.

    ./run bench                      every benchmark
    ./run bench audit slo_eval       only these (the report holds only them)
    ./run bench --table FILE         print the table of an existing report
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from _setup import POSTGRES_SERVER, ROOT, database_name

REPORT = ROOT / "var" / "bench" / "report.json"


@dataclass(frozen=True)
class Target:
    figure: str
    op: str  # ">=", "<=", "<", "==" (a value) or "is" (True/False)
    value: float | bool
    note: str = ""

    def met(self, value) -> bool | None:
        if value is None:
            return None
        if self.op == "is":
            return value is self.value
        return {
            ">=": value >= self.value,
            "<=": value <= self.value,
            "<": value < self.value,
            "==": value == self.value,
        }[self.op]

    def text(self) -> str:
        value = str(self.value).lower() if isinstance(self.value, bool) else f"{self.value:g}"
        return f"{self.op} {value}"


@dataclass(frozen=True)
class Run:
    bench: str
    database: str  # "sqlite" | "postgresql"
    targets: tuple[Target, ...]
    shown: tuple[str, ...]  # figures printed in the table besides the targeted ones


APPEND = Target("append_ratio", ">=", 0.5, "chain appends/s over bare INSERT + COMMIT/s")
VERIFY = Target("verify_ratio", ">=", 0.5, "audit_verify events/s over SHA-256/s on one core")
AUDIT_SHOWN = (
    "table_ratio",
    "append_over_table_ratio",
    "append_per_s",
    "table_insert_per_s",
    "bare_insert_per_s",
    "verify_per_s",
    "sha256_per_s",
    "verify_processes",
    "verify_ratio_per_process",
    "verify_ratio_one_process",
)
DASHBOARD = (Target("max_warm_p95_ms", "<=", 300, "the slowest page's warm p95"),)
DASHBOARD_SHOWN = ("max_cold_p95_ms", "slowest_page")
HTTP_SHOWN = ("submit_rps", "write_rps", "submit_p95_ms", "conn_max_age")

RUNS = (
    Run("audit", "sqlite", (APPEND, VERIFY), AUDIT_SHOWN),
    Run("audit", "postgresql", (APPEND, VERIFY), AUDIT_SHOWN),
    Run(
        "slo_eval",
        "sqlite",
        (
            Target("speedup", ">=", 5, "at 200 SLOs, same concurrency and timing for both"),
            Target("max_rel_diff", "<=", 1e-6, "every figure agrees with the baseline's"),
            Target("promql_batched", "is", True, "as many queries with 4x the promql SLOs"),
        ),
        (
            "slos",
            "answers",
            "metrics",
            "seconds",
            "queries",
            "queries_evaluated",
            "prometheus_cpu_seconds",
            "engine_cpu_seconds",
            "naive_seconds",
            "naive_queries",
            "naive_prometheus_cpu_seconds",
            "batching_promql_slos",
            "batching_requests",
        ),
    ),
    Run(
        "backtest",
        "sqlite",
        (
            Target("exact_seconds", "<", 5, "one exact-path SLO replayed over 30 days"),
            Target("paths_agree", "is", True, "the promql path finds the same episodes"),
        ),
        ("promql_seconds", "days", "pages", "tickets"),
    ),
    Run(
        "catalog_http",
        "postgresql",
        (
            Target("ratio", ">=", 0.25, "submissions/s over one-row audited writes/s"),
            Target("policy_p99_ms", "<", 5, "all policies of one request"),
        ),
        HTTP_SHOWN,
    ),
    Run(
        "catalog_http",
        "sqlite",
        (Target("policy_p99_ms", "<", 5, "all policies of one request"),),
        ("ratio", *HTTP_SHOWN),
    ),
    Run("dashboards", "postgresql", DASHBOARD, DASHBOARD_SHOWN),
    Run("dashboards", "sqlite", DASHBOARD, DASHBOARD_SHOWN),
    Run(
        "provisioning",
        "postgresql",
        (Target("p95_seconds", "<", 120, "M2: approved to ready"),),
        ("requests", "p50_seconds", "step_p50_ms"),
    ),
    Run(
        "platform_metrics",
        "sqlite",
        (Target("month_seconds", "<", 600, "a month's M1-M12 within the 10-minute beat"),),
        ("import_rows_per_s", "slowest_metric", "overview_ms"),
    ),
    Run(
        "load",
        "postgresql",
        (
            Target("errors_5xx", "==", 0),
            Target("audit_chain_ok", "is", True),
            Target("quotas_ok", "is", True),
            Target("stuck", "==", 0),
        ),
        ("requests_total", "rps", "max_p95_ms"),
    ),
)


def command(run: Run, args: argparse.Namespace) -> list[str]:
    line = [sys.executable, str(ROOT / "bench" / f"{run.bench}.py"), "--quick"]
    if run.database == "postgresql":
        line += ["--postgres", args.postgres]
    if run.bench in ("load", "provisioning"):
        line += ["--redis", args.redis]
    if run.bench == "load":
        line += ["--database", database_name("load")]
    return line


def execute(run: Run, args: argparse.Namespace) -> dict:
    label = f"{run.bench} ({run.database})"
    print(f"==> {label}", file=sys.stderr, flush=True)
    log = ROOT / "var" / "bench" / f"{run.bench}-{run.database}.log"
    started, load_before = time.monotonic(), os.getloadavg()[0]
    with log.open("w") as stderr:
        finished = subprocess.run(
            command(run, args), cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    seconds = time.monotonic() - started
    figures = None
    lines = finished.stdout.strip().splitlines()
    if lines:
        try:
            figures = json.loads(lines[-1])
        except json.JSONDecodeError:
            figures = None
    outcome = {
        "bench": run.bench,
        "database": run.database,
        "command": " ".join(["python", f"bench/{run.bench}.py", *command(run, args)[2:]]).replace(
            args.postgres, "SERVER_URL"
        ),
        "exit_status": finished.returncode,
        "seconds": round(seconds, 1),
        # 1-minute load average before and after: how busy the machine was meanwhile
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "log": str(log.relative_to(ROOT)),
        "figures": figures,
        "targets": [
            {
                "figure": target.figure,
                "target": target.text(),
                "note": target.note,
                "value": (figures or {}).get(target.figure),
                "met": target.met((figures or {}).get(target.figure)),
            }
            for target in run.targets
        ],
        "shown": list(run.shown),
    }
    state = "ok" if finished.returncode == 0 and figures else f"FAILED ({finished.returncode})"
    print(
        f"    {state} in {seconds:.0f} s (load average {outcome['load_average'][0]} → "
        f"{outcome['load_average'][1]}); log: {outcome['log']}",
        file=sys.stderr,
        flush=True,
    )
    return outcome


def machine(args: argparse.Namespace, runs: list[Run]) -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    databases = {}
    if any(run.database == "sqlite" for run in runs):
        databases["sqlite"] = sqlite3.sqlite_version
    if any(run.database == "postgresql" for run in runs):
        import psycopg

        with psycopg.connect(args.postgres) as connection:
            databases["postgresql"] = connection.execute("SHOW server_version").fetchone()[0]
    prometheus = subprocess.run(
        ["/usr/bin/prometheus", "--version"], capture_output=True, text=True, check=False
    )
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "databases": databases,
        "prometheus": (prometheus.stdout or prometheus.stderr).split("\n")[0],
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def commit() -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True)
    return found.stdout.strip() + (" (with local changes)" if dirty.stdout.strip() else "")


def _value(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value and abs(value) < 0.001:
            return f"{value:.1e}"
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(report: dict) -> str:
    rows = [("benchmark", "database", "figure", "value", "target", "met", "load")]
    for outcome in report["runs"]:
        name, database = outcome["bench"], outcome["database"]
        load = outcome.get("load_average")
        first = len(rows)
        if outcome["exit_status"] != 0 or not outcome["figures"]:
            rows.append((name, database, "exit status", str(outcome["exit_status"]), "0", "FAILED"))
        figures = outcome["figures"] or {}
        for target in outcome["targets"]:
            met = {True: "yes", False: "NO", None: "-"}[target["met"]]
            rows.append(
                (name, database, target["figure"], _value(target["value"]), target["target"], met)
            )
        for figure in outcome["shown"]:
            rows.append((name, database, figure, _value(figures.get(figure)), "", ""))
        for index in range(first, len(rows)):
            note = f"{load[0]:g}→{load[1]:g}" if load and index == first else ""
            rows[index] = (*rows[index], note)
    widths = [max(len(row[i]) for row in rows) for i in range(7)]
    lines = [
        "  ".join(
            cell.rjust(widths[i]) if i == 3 else cell.ljust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    m = report["machine"]
    lines.append("")
    lines.append(
        f"{report['generated_at']}  commit {report['commit']}  {report['mode']} runs  "
        f"{m['cores']} cores ({m['cpu_model']}), {m['memory_gb']} GB, Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["databases"].items())
        + f"; load average {m['load_average_at_start'][0]} at start, "
        f"{report['load_average_at_end'][0]} at end (load: each run's 1-minute load average "
        "before → after)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--postgres", default=POSTGRES_SERVER, help="PostgreSQL server URL")
    parser.add_argument(
        "--redis",
        default=os.environ.get("SSOPS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="a Redis database the benchmarks that need a broker may flush",
    )
    parser.add_argument("--out", type=Path, default=REPORT, help="where to write the report")
    parser.add_argument("--table", type=Path, metavar="REPORT", help="print this report's table")
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return
    known = {run.bench for run in RUNS}
    unknown = sorted(set(args.names) - known)
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    runs = [run for run in RUNS if not args.names or run.bench in args.names]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "./run bench" + "".join(f" {name}" for name in args.names),
        "commit": commit(),
        "mode": "quick",
        "machine": machine(args, runs),
        "runs": [],
    }
    for run in runs:
        report["runs"].append(execute(run, args))
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["all_ran"] = all(o["exit_status"] == 0 and o["figures"] for o in report["runs"])
    report["all_targets_met"] = all(
        t["met"] for o in report["runs"] for t in o["targets"] if t["met"] is not None
    ) and all(t["met"] is not None for o in report["runs"] for t in o["targets"])
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report))
    print(f"\nreport: {args.out}", file=sys.stderr)
    sys.exit(0 if report["all_ran"] else 1)


if __name__ == "__main__":
    main()
