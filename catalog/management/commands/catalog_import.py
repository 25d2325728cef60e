from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.importer import KINDS, catalog_import


class Command(BaseCommand):
    help = (
        "Load catalog templates, policies and runbooks from YAML (default: each app's "
        "definitions/ folder), lint them (schema, known step actions, policy examples) and "
        "publish them; a bad file rejects the whole import. Published versions never change."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="*",
            type=Path,
            help="files or folders (default: the definitions/ of the catalog and provisioning)",
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
        for noun, labels in report.others_published.items():
            for label in labels:
                self.stdout.write(f"published {noun} {label}")
        unchanged = (
            len(report.unchanged)
            + len(report.policies_unchanged)
            + sum(map(len, report.others_unchanged.values()))
        )
        others = "".join(
            f"{len(report.others_published.get(kind.noun, []))} {kind.noun}(s) published, "
            for kind in KINDS.values()
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.published)} template version(s) published, "
                f"{len(report.policies_saved)} polic(ies) saved, {others}{unchanged} unchanged"
            )
        )
