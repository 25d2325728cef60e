import json
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from slo.services import UnknownSLO, slo_evaluate, slo_evaluation_record, slos_for_evaluation


def rfc3339(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--at {text!r} is not an RFC 3339 time (2026-01-01T00:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise CommandError(f"--at {text!r} needs a time zone offset, e.g. Z")
    return moment.astimezone(UTC)


class Command(BaseCommand):
    help = (
        "Evaluate SLOs against their sources (PROMETHEUS_URL) now or --at a time; --json prints "
        "a JSON array, one object per SLO (per group of a grouped SLO). Records nothing, "
        "unless --record: then the results are stored as each SLO's current state (snapshots, "
        "data status, alert transitions and Alertmanager messages), as the beat job does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--at", type=rfc3339, help="RFC 3339 time (default: now)")
        parser.add_argument("--slo", action="append", metavar="NAME", help="only this SLO")
        parser.add_argument("--json", action="store_true", help="print the JSON contract")
        parser.add_argument(
            "--record", action="store_true", help="store the results, as the beat job does"
        )

    def handle(self, *args, **options):
        try:
            slos = slos_for_evaluation(options["slo"])
        except UnknownSLO as exc:
            raise CommandError(str(exc)) from None
        at = options["at"] or datetime.now(tz=UTC)
        if options["record"]:
            # The beat job's minute: one snapshot per SLO and minute, transitions only on change.
            minute = at.replace(second=0, microsecond=0)
            ids = [slo.pk for slo in slos] if options["slo"] else None
            evaluations = slo_evaluation_record(at=minute, slo_ids=ids)
        else:
            evaluations = slo_evaluate(slos=slos, at=at)
        if options["json"]:
            objects = [found for ev in evaluations for found in ev.contract_objects()]
            self.stdout.write(json.dumps(objects, indent=2))
            return
        for ev in (group for found in evaluations for group in found.groups or [found]):
            sli = "-" if ev.sli is None else f"{ev.sli:.5%}"
            budget = (
                "-" if ev.error_budget_remaining is None else f"{ev.error_budget_remaining:.1%}"
            )
            alerts = ",".join(sorted({a.severity for a in ev.alerts})) or "-"
            line = (
                f"{ev.name:40} {ev.evaluation:6} {ev.data_status:12} sli {sli:>10} "
                f"budget {budget:>8} {alerts}"
            )
            self.stdout.write(line + (f"  ({ev.detail})" if ev.detail else ""))
