from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from slo.exporters import export_documents
from slo.models import SLO
from slo.services import UnknownSLO, slos_for_evaluation


class Command(BaseCommand):
    help = "Write the SLOs and the objects they refer to as OpenSLO v1 YAML (slo_import reads it)."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
        parser.add_argument("--slo", action="append", metavar="NAME", help="only this SLO")

    def handle(self, *args, output=None, slo=None, **options):
        try:
            names = [s.name for s in slos_for_evaluation(slo)]
        except UnknownSLO as exc:
            raise CommandError(str(exc)) from None
        slos = SLO.objects.filter(name__in=names)
        text = yaml.safe_dump_all(export_documents(slos), sort_keys=False, allow_unicode=True)
        if output:
            output.write_text(text)
        else:
            self.stdout.write(text, ending="")
