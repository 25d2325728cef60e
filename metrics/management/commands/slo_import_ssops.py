from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from metrics.services import ssops_slos_import
from slo.importers import ImportRefused
from teams.models import Team


class Command(BaseCommand):
    help = (
        "Import (upsert) SSOps's own SLOs (metrics/slos/*.yaml, OpenSLO v1; a migration "
        "installs them on every database): API availability 99.9 %, API latency 99 % within "
        "500 ms, provisioning p95 under 2 minutes, provisioning success 99 %, catalog uptime "
        "99.95 %. The API SLOs read Prometheus when PROMETHEUS_URL is set and SSOps's own "
        "records otherwise: run this again after setting or unsetting PROMETHEUS_URL."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--team", default=settings.PLATFORM_TEAM, help="owner team (slug); SSOPS_PLATFORM_TEAM"
        )

    def handle(self, *args, team, **options):
        owner = Team.objects.filter(slug=team).first()
        if owner is None:
            raise CommandError(f"--team {team}: no such team (create it, or name another)")
        try:
            reports = ssops_slos_import(
                actor=None, team=owner, prometheus=bool(settings.PROMETHEUS_URL)
            )
        except ImportRefused as exc:
            raise CommandError(f"refused {exc}") from None
        source = "Prometheus" if settings.PROMETHEUS_URL else "SSOps's own records"
        for report in reports:
            counts = ", ".join(
                f"{report.count(o)} {o}" for o in ("created", "updated", "unchanged")
            )
            self.stdout.write(f"{report.file}: {counts}")
        self.stdout.write(f"API availability and latency read {source}")
