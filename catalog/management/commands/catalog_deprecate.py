from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.models import TemplateVersion
from catalog.services import template_version_deprecate


class Command(BaseCommand):
    help = "Deprecate a published template version: no new requests; existing ones keep it."

    def add_arguments(self, parser):
        parser.add_argument("template")
        parser.add_argument("version")
        parser.add_argument("--reason", default="")
        parser.add_argument("--actor", default="", help="username recorded in the audit store")

    def handle(self, *args, template, version, reason, actor, **options):
        found = TemplateVersion.objects.filter(template__slug=template, version=version).first()
        if found is None:
            raise CommandError(f"no template version {template} {version}")
        user = get_user_model().objects.filter(username=actor).first() if actor else None
        if template_version_deprecate(actor=user, version=found, reason=reason):
            self.stdout.write(self.style.SUCCESS(f"deprecated {template} {version}"))
        else:
            self.stdout.write(f"{template} {version} was already deprecated")
