import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from metrics import catalogue
from metrics.models import MetricSnapshot
from metrics.periods import KINDS, PeriodError, period_parse
from metrics.services import metric_history_recompute, metric_snapshots_record


class Command(BaseCommand):
    help = (
        "Compute and store the platform metrics M1–M12 for any period from the records (the "
        "beat job does the current ones every 10 minutes). Recomputing a period replaces its "
        "stored figures; --recompute recomputes the history of metrics whose definition changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", choices=KINDS, default="day")
        parser.add_argument(
            "--at", help="the period: a date inside it or its label (2026-01-05, 2026-W02, 2026-01)"
        )
        parser.add_argument("--back", type=int, default=1, help="also this many periods before")
        parser.add_argument("--metric", action="append", help="M1…M12 (repeat); default all")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the figures as JSON"
        )
        parser.add_argument(
            "--recompute",
            action="store_true",
            help="compute again every stored period of the metrics whose definition changed "
            "since it was computed, so that no history mixes definitions (other options are "
            "ignored)",
        )

    def handle(
        self, *args, period, at=None, back=1, metric=None, as_json=False, recompute=False, **opts
    ):
        now = timezone.now()
        if recompute:
            done = metric_history_recompute(actor=None, now=now)
            for item in done:
                self.stdout.write(
                    f"{item.metric} recomputed under definition v{item.version}: "
                    f"{len(item.periods)} periods ({', '.join(item.periods[:6])}"
                    f"{', …' if len(item.periods) > 6 else ''})"
                )
            if not done:
                self.stdout.write("every stored figure follows its metric's current definition")
            return
        try:
            first = period_parse(period, at) if at else period_parse(period, now.isoformat())
            keys = [catalogue.metric_lookup(m).key for m in metric or []] or None
        except PeriodError as exc:
            raise CommandError(f"--at: {exc}") from None
        except KeyError as exc:
            raise CommandError(f"--metric {exc.args[0]}: use M1 to M12") from None
        periods = [first]
        for _ in range(max(back, 1) - 1):
            periods.insert(0, periods[0].previous())
        printed = []
        for each in periods:
            if each.start > now:
                raise CommandError(f"{each.label} has not started yet")
            statuses = metric_snapshots_record(period=each, now=now, metrics=keys)
            rows = MetricSnapshot.objects.filter(
                period_kind=each.kind, period_start=each.start, metric__in=list(statuses)
            ).select_related("team")
            for row in sorted(rows, key=_order):
                printed.append(_plain(row, each.label))
        if as_json:
            self.stdout.write(_dumps(printed))
            return
        for row in printed:
            value = "—" if row["value"] is None else f"{row['value']:.6g}"
            scope = row["team"] or "all teams"
            dim = f" [{row['dimension']}]" if row["dimension"] else ""
            note = (
                f"  ({row['data_status']}: {row['detail']})"
                if row["detail"]
                else ("" if row["data_status"] == "ok" else f"  ({row['data_status']})")
            )
            self.stdout.write(f"{row['period']} {row['metric']:>3} {scope}{dim}: {value}{note}")


def _order(row: MetricSnapshot):
    return (int(row.metric[1:]), row.team.slug if row.team else "", row.dimension)


def _plain(row: MetricSnapshot, label: str) -> dict:
    return {
        "metric": row.metric,
        "period": label,
        "team": row.team.slug if row.team else None,
        "dimension": row.dimension,
        "value": row.value,
        "extras": row.extras,
        "data_status": row.data_status,
        "detail": row.detail,
    }


def _dumps(rows: list[dict]) -> str:
    return json.dumps(
        rows, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)
    )
