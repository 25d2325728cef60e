from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from metrics.models import AuditGap
from metrics.services import audit_gaps_reconcile


class Command(BaseCommand):
    help = (
        "Check state transitions (requests and approvals; runs and resources once the "
        "provisioning engine keeps them) against the audit store; name every transition without "
        "its audit event. Exits 1 when a transition in the range has a gap."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="ISO 8601 (default: everything)")

    def handle(self, *args, since=None, **options):
        start = datetime(2000, 1, 1, tzinfo=UTC)
        if since:
            start = parse_datetime(since)
            if start is None:
                raise CommandError("--since: use ISO 8601, e.g. 2026-01-01 or 2026-01-01T00:00:00Z")
            if start.tzinfo is None:
                start = start.replace(tzinfo=UTC)
        now = timezone.now()
        new = audit_gaps_reconcile(start=start, end=now, now=now)
        gaps = AuditGap.objects.filter(occurred_at__gte=start).order_by("occurred_at", "id")
        for gap in gaps:
            self.stdout.write(f"GAP {gap.kind} {gap.record}: {gap.problem}")
        self.stdout.write(f"{gaps.count()} gap(s), {len(new)} new")
        if gaps.exists():
            raise CommandError("audit events are missing (see above)", returncode=1)
