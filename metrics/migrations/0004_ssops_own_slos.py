"""SSOps's own SLOs, installed on every database, so that a fresh install that never ran
seed_demo measures SSOps too: the OpenSLO files in metrics/slos/ read as `slo_import_ssops`
reads them (the API SLOs from Prometheus when PROMETHEUS_URL is set, else from SSOps's own
records), owned by the platform team (SSOPS_PLATFORM_TEAM, created when missing).

An SLO that already exists by name is left as it is: an operator may have changed it, and
`slo_import_ssops` brings it back in line. Rows are written with the models as they are at this
point of the history (a later migration adds its columns' defaults), each audited like an
import. Going back removes nothing: the SLOs may have history by then.
"""

from importlib.resources import files

from django.conf import settings
from django.db import migrations

SOURCE = "installed by migration metrics.0004_ssops_own_slos"


def _texts():
    """Every file, by name (api-availability.yaml, which defines the service, comes first)."""
    for path in sorted(files("metrics.slos").iterdir(), key=lambda p: p.name):
        if path.name.endswith(".yaml"):
            text = path.read_text()
            if not settings.PROMETHEUS_URL:
                text = text.replace("type: Prometheus", "type: SSOps")
            yield path.name, text


def _fields(model, values: dict) -> dict:
    """The planned values that this point of the history has columns for."""
    known = {field.name for field in model._meta.concrete_fields}
    return {name: value for name, value in values.items() if name in known}


def install(apps, schema_editor):
    from audit.services import audit_record
    from slo import promql
    from slo.importers import plan_text

    Team = apps.get_model("teams", "Team")
    Service = apps.get_model("slo", "Service")
    DataSource = apps.get_model("slo", "DataSource")
    SLO = apps.get_model("slo", "SLO")

    def created(obj, action: str, team, payload: dict) -> None:
        audit_record(action=action, obj=obj, team=team, payload={**payload, "source": SOURCE})

    team = Team.objects.filter(slug=settings.PLATFORM_TEAM).first()
    if team is None:
        team = Team.objects.create(slug=settings.PLATFORM_TEAM, name="Platform")
        created(team, "team.created", team, {"slug": team.slug, "name": team.name})
    for name, text in _texts():
        for item in plan_text(text, f"metrics/slos/{name}"):
            if item.kind == "Service":
                if not Service.objects.filter(name=item.name).exists():
                    service = Service.objects.create(
                        name=item.name, team=team, **_fields(Service, item.fields)
                    )
                    created(service, "slo.service.created", team, {"name": item.name})
                continue
            if SLO.objects.filter(name=item.name).exists():
                continue
            values = _fields(SLO, item.fields)
            for query in ("numerator_query", "total_query"):
                values[query] = str(promql.parse_counter(values[query]))
            service_name = item.refs["service"].name
            service = Service.objects.filter(name=service_name).first()
            if service is None:
                service = Service.objects.create(name=service_name, team=team)
                created(service, "slo.service.created", team, {"name": service_name})
            source = None
            if item.source_kind == "platform":
                source, _ = DataSource.objects.get_or_create(
                    name="ssops", defaults={"kind": "platform"}
                )
            slo = SLO.objects.create(
                name=item.name, team=team, service=service, data_source=source, **values
            )
            created(
                slo,
                "slo.slo.created",
                team,
                {"name": slo.name, "objective": slo.objective, "window": slo.window_duration},
            )


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0003_unexpected_actors"),
        ("slo", "0006_platform_alerts"),
        ("teams", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
