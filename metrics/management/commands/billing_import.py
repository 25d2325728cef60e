from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from metrics.focus import FocusRefused
from metrics.services import billing_import


class Command(BaseCommand):
    help = (
        "Import a FOCUS 1.2 billing CSV (1.3 columns accepted; Tags as JSON). The file is "
        "imported whole or not at all: a refusal names each problem's row and column. Rows of a "
        "billing account's billing period imported again replace those held, never double them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE")
        parser.add_argument("--actor", help="username recorded in the audit store as importer")

    def handle(self, *args, file: Path, actor=None, **options):
        user = None
        if actor:
            user = get_user_model().objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"--actor {actor}: no such user")
        try:
            with file.open(newline="", encoding="utf-8-sig") as lines:
                record = billing_import(actor=user, lines=lines, file_name=file.name)
        except FocusRefused as exc:
            raise CommandError(f"refused {file}, nothing was imported:\n{exc}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"refused {file}, nothing was imported: not UTF-8 ({exc})") from None
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from None
        periods = ", ".join(
            f"{p['billing_account_id']} {p['billing_period_start'][:7]} ({p['rows']} rows)"
            for p in record.periods
        )
        costs = ", ".join(
            f"{amount} {currency}" for currency, amount in record.effective_cost.items()
        )
        self.stdout.write(
            f"imported {file.name}: {record.row_count} rows (FOCUS {record.focus_version}); "
            f"billing periods {periods}; replaced {record.replaced_rows} rows held before; "
            f"EffectiveCost {costs}"
        )
