from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from slo import windows
from slo.importers import ImportRefused
from slo.services import slo_import_file
from teams.models import Team


class Command(BaseCommand):
    help = (
        "Import SLO files: OpenSLO v1 (SLO, SLI, Service, DataSource, AlertPolicy, "
        "AlertCondition, AlertNotificationTarget) and v1alpha, Sloth prometheus/v1 and "
        "PrometheusServiceLevel, Pyrra ServiceLevelObjective; upsert by name. Each file is "
        "imported whole or not at all; a refused file is named with its document and field."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--team",
            help="owner team (slug) for SLOs and services whose labels name no SSOps team",
        )
        parser.add_argument(
            "--sloth-period",
            metavar="DURATION",
            help="window of Sloth SLOs, which Sloth files do not give (Sloth's "
            "--default-slo-period; default 30d, or an imported SLO's own)",
        )

    def handle(self, *args, files, team=None, sloth_period=None, **options):
        if sloth_period:
            try:
                windows.rolling_duration(sloth_period)
            except windows.WindowError as exc:
                raise CommandError(f"--sloth-period: {exc}") from None
        default_team = None
        if team:
            default_team = Team.objects.filter(slug=team).first()
            if default_team is None:
                raise CommandError(f"--team {team}: no such team")
        refused = []
        for path in files:
            try:
                report = slo_import_file(
                    actor=None, path=path, default_team=default_team, sloth_period=sloth_period
                )
            except ImportRefused as exc:
                refused.append(str(exc))
                self.stderr.write(f"refused {exc}")
                continue
            counts = ", ".join(
                f"{report.count(outcome)} {outcome}"
                for outcome in ("created", "updated", "unchanged")
            )
            self.stdout.write(f"{path}: {counts}")
        if refused:
            raise CommandError(
                f"{len(refused)} of {len(files)} file(s) refused; nothing of them imported"
            )
