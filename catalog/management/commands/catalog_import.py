from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.importer import DEFAULT_ROOT, catalog_import


class Command(BaseCommand):
    help = (
        "Load catalog templates and policies from YAML (default: catalog/definitions/), lint "
        "them (schema, known step actions, policy examples) and publish them; a bad file "
        "rejects the whole import. Published template versions never change."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="*", type=Path, help=f"files or folders ({DEFAULT_ROOT})"
        )
        parser.add_argument("--check", action="store_true", help="lint only; write nothing")
        parser.add_argument("--actor", default="", help="username recorded in the audit store")

    def handle(self, *args, paths, check, actor, **options):
        user = None
        if actor:
            user = get_user_model().objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"no user {actor!r}")
        report = catalog_import(actor=user, paths=paths or None, check=check)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(report.errors)} problem(s); nothing was imported")
        if check:
            self.stdout.write(self.style.SUCCESS("all definitions are valid"))
            return
        for label in report.published:
            self.stdout.write(f"published template {label}")
        for name in report.policies_saved:
            self.stdout.write(f"saved policy {name}")
        for label in report.runbooks_published:
            self.stdout.write(f"published runbook {label}")
        unchanged = (
            len(report.unchanged) + len(report.policies_unchanged) + len(report.runbooks_unchanged)
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.published)} template version(s) published, "
                f"{len(report.policies_saved)} polic(ies) saved, "
                f"{len(report.runbooks_published)} runbook(s) published, {unchanged} unchanged"
            )
        )
