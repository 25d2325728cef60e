from django.core.management.base import BaseCommand

from audit.services import audit_checkpoint_create


class Command(BaseCommand):
    help = "Sign the current head of the audit chain (size and hash) so a cut tail is detected."

    def handle(self, *args, **options):
        checkpoint = audit_checkpoint_create()
        self.stdout.write(
            f"checkpoint: {checkpoint.size} events, head {checkpoint.head_hash}, "
            f"signed at {checkpoint.signed_at}"
        )
