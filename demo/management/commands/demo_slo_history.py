from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from slo.models import Snapshot
from slo.services.evaluation import slo_evaluate, slos_for_evaluation, snapshot_of

HISTORY = "demo history, evaluated from the demo's backfilled Prometheus"


class Command(BaseCommand):
    help = (
        "Evaluate every SLO at past times against PROMETHEUS_URL and store the snapshots, so the "
        "demo's charts show the backfilled history (no alerts are sent for the past)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)
        parser.add_argument("--every", type=int, default=3600, help="seconds between snapshots")

    def handle(self, *args, days, every, **options):
        if not settings.PROMETHEUS_URL:
            raise CommandError("PROMETHEUS_URL is not set: there is no history to evaluate")
        if not (1 <= days <= 400 and 60 <= every <= 86_400):
            raise CommandError("--days must be 1..400 and --every 60..86400 seconds")
        slos = slos_for_evaluation()
        now = datetime.now(tz=UTC).replace(second=0, microsecond=0)
        if every % 3600 == 0:  # on the hour: the history pages thin long windows to those
            now = now.replace(minute=0)
        steps = int(days * 86_400 // every)
        rows = []
        for step in range(steps, 0, -1):
            at = now - timedelta(seconds=step * every)
            for slo, ev in zip(slos, slo_evaluate(slos=slos, at=at), strict=True):
                rows.append(snapshot_of(slo, at, ev, detail=HISTORY))
        Snapshot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        self.stdout.write(f"{len(rows)} snapshots for {len(slos)} SLOs over {days} days")
