import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from demo.workload import DAY, demo_services, openmetrics


class Command(BaseCommand):
    help = "Write the demo services' history (30 days up to --now) as OpenMetrics for promtool."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="the OpenMetrics file to write")
        parser.add_argument("--now", type=float, default=None, help="end of the history (unix s)")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument(
            "--labels", default="", help='labels the scrape adds, e.g. job="demo-services"'
        )

    def handle(self, *args, out, now, days, labels, **options):
        if not 1 <= days <= 400:
            raise CommandError("--days must be between 1 and 400")
        now = now or time.time()
        start = now - days * DAY
        text = openmetrics(demo_services(start, now), start, now, labels)
        Path(out).write_text(text)
        self.stdout.write(f"wrote {text.count(chr(10))} lines of history to {out}")
