from importlib import import_module

from django.core.management.base import BaseCommand

# Each app that has demo data exposes demo.seed(stdout); they run in this order.
SEEDERS = ["demo.catalog", "demo.slos", "demo.metrics", "dashboards.demo"]


class Command(BaseCommand):
    help = (
        "Create the demo teams, users (dev, approver, oncall, exec, admin; password 'demo'), "
        "templates, policies, SLOs and history. Safe to run again."
    )

    def handle(self, *args, **options):
        for name in SEEDERS:
            try:
                module = import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            module.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
