import json
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from slo.backtest import MAX_DAYS, BacktestError, rfc3339
from slo.importers import ImportRefused
from slo.management.commands.slo_evaluate import rfc3339 as parse_time
from slo.services import UnknownSLO, slos_for_evaluation
from slo.services.backtests import DEFAULT_DAYS, slo_backtest_file, slo_backtest_run
from teams.models import Team


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"--days {text!r} is not a number of days") from None
    if not 0 < value <= MAX_DAYS:
        raise CommandError(f"--days {text}: a backtest covers 1 to {MAX_DAYS} days")
    return value


class Command(BaseCommand):
    help = (
        "Replay an SLO's alert rules over the past days of its history (default 30) at a "
        "1-minute step, as live evaluation would have run them: the pages and tickets that "
        "would have fired, what the low-traffic guard and maintenance held back, and the "
        "budget left. NAME is an SLO in SSOps; FILE an SLO file (any format slo_import reads), "
        "replayed without being kept. --json prints the contract object."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", metavar="NAME|FILE")
        parser.add_argument("--days", type=days, default=DEFAULT_DAYS)
        parser.add_argument("--at", type=parse_time, help="RFC 3339 end (default: now)")
        parser.add_argument("--slo", help="with a FILE holding several SLOs: the one to replay")
        parser.add_argument("--team", help="with a FILE: the team of SLOs whose labels name none")
        parser.add_argument("--sloth-period", help="with a Sloth FILE: the SLO window")
        parser.add_argument("--json", action="store_true", help="print the JSON contract")

    def handle(self, *args, **options):
        at = options["at"] or datetime.now(tz=UTC)
        at = at.replace(second=0, microsecond=0)
        target = options["target"]
        try:
            reports = self._reports(target, options, at)
        except (BacktestError, ImportRefused, UnknownSLO) as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            (report,) = reports
            self.stdout.write(json.dumps(report.backtest.contract(), indent=2))
            return
        for report in reports:
            self._describe(report)

    def _reports(self, target: str, options, at: datetime) -> list:
        path = Path(target)
        if path.suffix in (".yaml", ".yml", ".json") or path.is_file():
            if not path.is_file():
                raise CommandError(f"{target}: no such file")
            team = None
            if options["team"]:
                team = Team.objects.filter(slug=options["team"]).first()
                if team is None:
                    raise CommandError(f"--team {options['team']!r}: no such team")
            reports = slo_backtest_file(
                path=path,
                team=team,
                days=options["days"],
                at=at,
                sloth_period=options["sloth_period"],
            )
            if options["slo"]:
                reports = [r for r in reports if r.backtest.slo == options["slo"]]
                if not reports:
                    raise CommandError(f"{target} defines no SLO named {options['slo']}")
            if options["json"] and len(reports) > 1:
                names = ", ".join(r.backtest.slo for r in reports)
                raise CommandError(
                    f"{target} defines several SLOs ({names}): choose one with --slo"
                )
            return reports
        (slo,) = slos_for_evaluation([target])
        return [slo_backtest_run(slo=slo, days=options["days"], at=at)]

    def _describe(self, report) -> None:
        backtest = report.backtest
        write = self.stdout.write
        write(
            f"{backtest.slo} ({backtest.evaluation}): {rfc3339(backtest.start)} to "
            f"{rfc3339(backtest.end)}, every {backtest.step} s"
        )
        if backtest.data_status != "ok":
            write(f"  {backtest.data_status}: {backtest.detail}")
        for item in report.compared:
            group = f" {item['group']}" if item.get("group") else ""
            spent = item["budget_spent"]
            spent_text = "" if spent is None else f", {spent:.1%} of the budget"
            real = "" if not report.saved else (" (fired)" if item["really_fired"] else " (new)")
            write(
                f"  {item['severity']:6}{group} {item['start']} to {item['end']}, peak burn "
                f"{item['peak_burn']:.1f}{spent_text}{real}"
            )
        if not backtest.alerts:
            write("  no page or ticket would have fired")
        for held in backtest.held:
            write(
                f"  held ({held.reason.replace('_', ' ')}): {held.severity} "
                f"{rfc3339(held.start)} to {rfc3339(held.end)}, peak burn {held.peak_burn:.1f}"
            )
        if report.saved:
            missed = [
                r
                for r in report.real_alerts
                if not any(
                    e.severity == r[0] and e.start <= r[2] and e.end >= r[1]
                    for e in backtest.alerts
                )
            ]
            for severity, start, end in missed:
                write(
                    f"  really fired, not replayed: {severity} {rfc3339(start)} to {rfc3339(end)}"
                )
        if backtest.budget_left:
            last = backtest.budget_left[-1][1]
            write("  budget left at the end: " + ("-" if last is None else f"{last:.1%}"))
