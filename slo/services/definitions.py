"""Writes of SLO definitions (admin, API, slo_import): each atomic and audited in the same
transaction, with the changed fields in the event's payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from audit.services import audit_record
from slo.choices import DataSourceKind
from slo.importers import ImportRefused, Planned, Ref, Refused, plan_file, plan_text
from slo.models import (
    SLO,
    AlertCondition,
    AlertNotificationTarget,
    AlertPolicy,
    BudgetAdjustment,
    DataSource,
    Indicator,
    Service,
)
from slo.services.maintenance import MIN_REASON, sync_silences_soon
from teams.models import Team
from teams.permissions import is_platform_admin

# In dependency order: an object is upserted after everything it may refer to.
KIND_MODELS: dict[str, type[models.Model]] = {
    "DataSource": DataSource,
    "Service": Service,
    "AlertNotificationTarget": AlertNotificationTarget,
    "AlertCondition": AlertCondition,
    "AlertPolicy": AlertPolicy,
    "SLI": Indicator,
    "SLO": SLO,
    "BudgetAdjustment": BudgetAdjustment,
}
UNTRACKED = {
    "id",
    "uuid",
    "created_at",
    "updated_at",
    "data_status",
    "data_status_since",
    "data_status_detail",
    "evaluated_at",
}
PLATFORM_SOURCE = "ssops"


def _state(obj: models.Model) -> dict:
    state = {}
    for model_field in obj._meta.concrete_fields:
        if model_field.name in UNTRACKED:
            continue
        if model_field.is_relation:
            related = getattr(obj, model_field.name)
            state[model_field.name] = str(related) if related is not None else None
        else:
            state[model_field.name] = model_field.value_from_object(obj)
    if obj.pk is not None:
        for many in obj._meta.many_to_many:
            state[many.name] = sorted(str(x) for x in getattr(obj, many.name).all())
    return state


def save_audited(
    *, actor, obj: models.Model, many: dict[str, list] | None = None, source: str = ""
) -> str:
    """Validate, save and audit one object; returns "created", "updated" or "unchanged"."""
    created = obj.pk is None
    before = {} if created else _state(type(obj).objects.get(pk=obj.pk))
    with transaction.atomic():
        obj.full_clean()
        obj.save()
        for name, items in (many or {}).items():
            getattr(obj, name).set(items)
        after = _state(obj)
        changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        if not created and not changes:
            return "unchanged"
        outcome = "created" if created else "updated"
        payload = {"name": str(obj), "changes": changes}
        if source:
            payload["source"] = source
        if isinstance(obj, SLO) and not created:
            removed = obj.follow_definition()  # its groups follow a changed definition
            if removed:
                payload["groups_removed"] = removed
        audit_record(
            action=f"slo.{obj._meta.model_name}.{outcome}",
            actor=actor,
            obj=obj,
            team=getattr(obj, "team", None),
            payload=payload,
        )
    return outcome


def slo_save(
    *,
    actor,
    slo: SLO,
    service_name: str | None = None,
    alert_policies: list[AlertPolicy] | None = None,
) -> SLO:
    """Create or change an SLO (admin and API). A new service name creates the service, owned
    by the SLO's team; a named SLI's fields win over inline ones. Nothing is kept on error."""
    with transaction.atomic():
        if service_name is not None and (
            slo.service_id is None or slo.service.name != service_name
        ):
            service = Service.objects.filter(name=service_name).first()
            if service is None:
                service = Service(name=service_name, team=slo.team)
                try:
                    save_audited(actor=actor, obj=service)
                except ValidationError as exc:
                    raise ValidationError({"service": exc.messages}) from None
            slo.service = service
        if slo.indicator_id:
            slo.copy_indicator_from(slo.indicator)
        many = {"alert_policies": alert_policies} if alert_policies is not None else None
        save_audited(actor=actor, obj=slo, many=many)
    return slo


def slo_delete(*, actor, slo: SLO) -> None:
    """Delete an SLO (a grouped one with its groups; a group alone cannot be deleted: it would
    come back at the next evaluation)."""
    if slo.is_group:
        raise ValidationError(
            f"{slo.display_name} is one group of {slo.parent.name}: delete or change the definition"
        )
    with transaction.atomic():
        payload = {"name": slo.name, "service": slo.service.name}
        groups = sorted(slo.groups.values_list("display_name", flat=True))
        if groups:
            payload["groups"] = groups
        audit_record(
            action="slo.slo.deleted", actor=actor, obj=slo, team=slo.team_id, payload=payload
        )
        slo.delete()


@dataclass
class ImportReport:
    file: str
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # kind, name, outcome

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.outcomes if item[2] == outcome)


class _Importer:
    """Applies one file's plan: resolves references (this file first, then SSOps) and upserts."""

    def __init__(self, actor, path: str, default_team: Team | None):
        self.actor = actor
        self.path = path
        self.default_team = default_team
        self.done: dict[tuple[str, str], models.Model] = {}

    def resolve(self, ref: Ref, team: Team | None = None) -> models.Model:
        found = self.done.get((ref.kind, ref.name))
        if found is None:
            found = KIND_MODELS[ref.kind].objects.filter(name=ref.name).first()
        if found is None and ref.create:
            found = Service(name=ref.name, team=team)
            try:
                save_audited(actor=self.actor, obj=found, source=self.path)
            except ValidationError as exc:
                raise Refused(ref.path, " ".join(exc.messages)) from None
        if found is None:
            raise Refused(
                ref.path,
                f"{ref.kind} {ref.name!r} does not resolve: it is neither in this file nor in "
                "SSOps (import the file that defines it first)",
            )
        return found

    def team(self, item: Planned, current: Team | None) -> Team:
        """The team its labels name, else --team, else (an object already in SSOps) its own."""
        teams = {t.slug: t for t in Team.objects.filter(slug__in=item.team_names)}
        for name in item.team_names:
            if name in teams:
                return teams[name]
        if self.default_team is not None:
            return self.default_team
        if current is not None:
            return current
        named = ", ".join(repr(n) for n in item.team_names) or "none"
        raise Refused(
            item.team_path,
            f"no SSOps team owns this {item.kind} (labels name {named}): add a team label "
            "naming an SSOps team, or pass --team",
        )

    def data_source(self, item: Planned) -> DataSource | None:
        ref = item.refs.get("data_source")
        if ref is None:
            if item.source_kind != DataSourceKind.PLATFORM:
                return None  # the Prometheus at PROMETHEUS_URL
            source, _ = DataSource.objects.get_or_create(
                name=PLATFORM_SOURCE, defaults={"kind": DataSourceKind.PLATFORM}
            )
            return source
        source = self.resolve(ref)
        if source.kind != item.source_kind:
            raise Refused(
                ref.path, f"DataSource {ref.name!r} is {source.kind}, not {item.source_kind}"
            )
        return source

    def adjusted_slo(self, item: Planned, service: Service) -> SLO | None:
        """The SLO a budget adjustment's indicatorRef names: an SLO of the service by its own
        name, or the one SLO of the service that measures the SLI of that name."""
        name = item.indicator_ref
        if not name:
            return None
        slos = SLO.objects.filter(service=service, parent=None)
        found = list(slos.filter(name=name)) or list(
            slos.filter(models.Q(indicator_name=name) | models.Q(indicator__name=name))
        )
        path = item.path_of("slo")
        if not found:
            raise Refused(path, f"{name!r} is no SLI or SLO of service {service.name}")
        if len(found) > 1:
            names = ", ".join(sorted(slo.name for slo in found))
            raise Refused(
                path,
                f"SLI {name!r} is measured by several SLOs of {service.name} ({names}): write "
                "one BudgetAdjustment per SLO, each naming its SLO",
            )
        return found[0]

    def check_late(self, item: Planned, found, obj: BudgetAdjustment) -> None:
        """A window that has begun changes past figures: adding or moving one needs a reason
        (and, through the API, a platform admin)."""
        if obj.first_start > timezone.now():
            return
        unchanged = found is not None and (
            (found.first_start, found.duration_seconds, found.rrule, found.slo_id)
            == (obj.first_start, obj.duration_seconds, obj.rrule, obj.slo_id)
        )
        if unchanged:
            return
        actor = self.actor
        if actor is not None and not is_platform_admin(actor):
            raise Refused(
                item.path_of("first_start"),
                "the window has already begun: only a platform admin may add it",
            )
        if len((obj.reason or "").strip()) < MIN_REASON:
            raise Refused(
                item.path_of("reason"),
                f"the window has already begun: say why in this annotation (at least "
                f"{MIN_REASON} characters)",
            )

    def apply(self, item: Planned) -> str:
        model = KIND_MODELS[item.kind]
        found = model.objects.filter(name=item.name).first()
        obj = found or model(name=item.name)
        if item.kind == "SLO" and obj.is_group:
            raise Refused("metadata.name", f"{item.name!r} is the name of a group of an SLO")
        values = {"kept_fields": [], **(item.defaults if found is None else {}), **item.fields}
        for name, value in values.items():
            setattr(obj, name, value)
        if item.kind in ("SLO", "Service"):
            obj.team = self.team(item, obj.team if found is not None else None)
        if item.kind in ("SLO", "SLI") and "indicator" not in item.refs:
            obj.data_source = self.data_source(item)
        for name, ref in item.refs.items():
            if name != "data_source":
                setattr(obj, name, self.resolve(ref, team=getattr(obj, "team", None)))
        if item.kind == "SLO":
            if obj.indicator_id is None:
                obj.indicator = None
            else:
                obj.copy_indicator_from(obj.indicator)
        if item.kind == "BudgetAdjustment":
            obj.slo = self.adjusted_slo(item, obj.service)
            self.check_late(item, found, obj)
        many = {name: [self.resolve(ref) for ref in refs] for name, refs in item.many.items()}
        try:
            outcome = save_audited(actor=self.actor, obj=obj, many=many, source=self.path)
        except ValidationError as exc:
            name, messages = next(iter(exc.message_dict.items()))
            path = "metadata.name" if name in ("name", "__all__") else item.path_of(name)
            raise Refused(path, " ".join(messages)) from None
        self.done[item.kind, item.name] = obj
        if item.kind == "BudgetAdjustment" and outcome != "unchanged":
            transaction.on_commit(sync_silences_soon)
        if item.kind == "SLI":
            for slo in obj.slos.all():  # SLOs that refer to it measure what it now says
                slo.copy_indicator_from(obj)
                save_audited(actor=self.actor, obj=slo, source=self.path)
        return outcome


def slo_import_file(
    *, actor, path: Path, default_team: Team | None = None, sloth_period: str | None = None
) -> ImportReport:
    """Upsert by name every object of one SLO file (OpenSLO, Sloth, Pyrra), or nothing at all.

    Raises ImportRefused naming the file, the document and the field.
    """
    planned = plan_file(path, sloth_period=sloth_period)
    return import_planned(actor=actor, planned=planned, name=str(path), default_team=default_team)


def slo_import_text(
    *,
    actor,
    text: str,
    name: str,
    default_team: Team | None = None,
    sloth_period: str | None = None,
) -> ImportReport:
    """slo_import_file for YAML held in memory (`name` stands for the file in messages)."""
    planned = plan_text(text, name, sloth_period=sloth_period)
    return import_planned(actor=actor, planned=planned, name=name, default_team=default_team)


def import_planned(
    *, actor, planned: list[Planned], name: str, default_team: Team | None
) -> ImportReport:
    """Upsert the planned objects of one file (`name`), all or nothing."""
    order = list(KIND_MODELS)
    importer = _Importer(actor, name, default_team)
    report = ImportReport(name)
    with transaction.atomic():
        for item in sorted(planned, key=lambda p: order.index(p.kind)):
            try:
                report.outcomes.append((item.kind, item.name, importer.apply(item)))
            except Refused as exc:
                raise ImportRefused(name, item.document, exc.field, exc.message) from None
    return report
