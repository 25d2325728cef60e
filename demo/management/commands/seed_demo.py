from django.core.management.base import BaseCommand

from demo import catalog, metrics, slos


class Command(BaseCommand):
    help = (
        "Create the demo teams, users (dev, approver, oncall, exec, admin; password 'demo'), "
        "templates, policies, SLOs and history. Safe to run again."
    )

    def handle(self, *args, **options):
        # The catalog first (teams and users), then the SLOs and their history, then the
        # platform metrics computed over both.
        for part in (catalog, slos, metrics):
            part.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
