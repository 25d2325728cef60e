from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from slo.rules import rule_file, slo_rule_group
from slo.services import UnknownSLO, slos_for_evaluation


class Command(BaseCommand):
    help = (
        "Print Prometheus recording and alerting rules for the SLOs (valid under "
        "`promtool check rules`), so that Prometheus or Mimir can evaluate them; a grouped SLO "
        "records one series per group."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slo", action="append", metavar="NAME", help="only this SLO")
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")

    def handle(self, *args, slo=None, output=None, **options):
        try:
            slos = slos_for_evaluation(slo)
        except UnknownSLO as exc:
            raise CommandError(str(exc)) from None
        groups = [
            slo_rule_group(
                s.definition(),
                alert_labels=s.alert_labels,
                annotations=_annotations(s),
                severity_annotations=s.severity_annotations,
                severities=[
                    sev for sev, on in (("page", s.page_alerts), ("ticket", s.ticket_alerts)) if on
                ],
            )
            for s in slos
        ]
        text = yaml.safe_dump(rule_file(groups), sort_keys=False, width=120)
        if output:
            output.write_text(text)
        else:
            self.stdout.write(text, ending="")


def _annotations(slo) -> dict:
    annotations = {k: str(v) for k, v in (slo.alert_annotations or {}).items()}
    if slo.runbook_url:
        annotations["runbook_url"] = slo.runbook_url
    if slo.dashboard_url:
        annotations["dashboard_url"] = slo.dashboard_url
    return annotations
