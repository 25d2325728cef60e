"""The SLO editor's form: the fields people change most, checked on save as every other door
checks an SLO (SLO.clean); a backtest replays the edited SLO before it is saved."""

from __future__ import annotations

from datetime import UTC

from django import forms

from slo.backtest import MAX_DAYS
from slo.choices import IndicatorType, NumeratorKind
from slo.models import SLO, Service
from teams import permissions
from teams.models import Team


class SLOEditForm(forms.ModelForm):
    service_name = forms.CharField(
        label="Service", max_length=200, help_text="created for the team when new"
    )
    group_by_text = forms.CharField(
        label="Grouped by",
        required=False,
        help_text="label names, comma-separated: one SLO per value (empty: not grouped)",
    )
    days = forms.IntegerField(
        label="Backtest over (days)", min_value=1, max_value=MAX_DAYS, initial=30, required=False
    )
    until = forms.DateTimeField(
        label="Backtest up to (UTC)",
        required=False,
        help_text="empty: now; or a past moment, to replay an incident (YYYY-MM-DD HH:MM)",
    )

    class Meta:
        model = SLO
        fields = [
            "name",
            "display_name",
            "team",
            "objective",
            "window_duration",
            "indicator_type",
            "numerator_kind",
            "numerator_query",
            "total_query",
            "ratio_query",
            "min_events",
            "page_alerts",
            "ticket_alerts",
            "description",
        ]
        widgets = {
            "numerator_query": forms.Textarea(attrs={"rows": 2}),
            "total_query": forms.Textarea(attrs={"rows": 2}),
            "ratio_query": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("slug")
        if not permissions.is_platform_admin(user):
            admin_of = [t.pk for t in teams if permissions.is_team_admin(user, t.pk)]
            teams = teams.filter(pk__in=admin_of)
        self.fields["team"].queryset = teams
        self.fields["indicator_type"].choices = [
            (IndicatorType.RATIO, IndicatorType.RATIO.label),
            (IndicatorType.RAW, IndicatorType.RAW.label),
        ]
        self.fields["numerator_kind"].choices = NumeratorKind.choices
        if self.instance.pk:
            self.fields["name"].disabled = True
            self.fields["service_name"].initial = self.instance.service.name
            self.fields["group_by_text"].initial = ", ".join(self.instance.group_by or [])

    def clean_until(self):
        moment = self.cleaned_data.get("until")
        return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment

    def clean_group_by_text(self) -> list[str]:
        text = self.cleaned_data.get("group_by_text") or ""
        return [label.strip() for label in text.split(",") if label.strip()]

    def _post_clean(self):
        # The SLO's own checks need its grouping (and a service, which slo_save sets by name).
        self.instance.group_by = self.cleaned_data.get("group_by_text", [])
        super()._post_clean()

    def _get_validation_exclusions(self):
        return {*super()._get_validation_exclusions(), "service"}


class MaintenanceForm(forms.Form):
    """A planned maintenance window (the API's budget adjustment)."""

    name = forms.SlugField(max_length=200, help_text="e.g. checkout-db-upgrade")
    service = forms.ModelChoiceField(queryset=Service.objects.none(), to_field_name="name")
    slo = forms.ModelChoiceField(
        queryset=SLO.objects.none(),
        to_field_name="name",
        required=False,
        empty_label="every SLO of the service",
        label="SLO",
    )
    first_start = forms.DateTimeField(
        label="Starts (UTC)",
        help_text="YYYY-MM-DD HH:MM, UTC",
        widget=forms.DateTimeInput(attrs={"placeholder": "2026-01-10 02:00"}),
    )
    minutes = forms.IntegerField(label="Lasts (minutes)", min_value=1, max_value=7 * 24 * 60)
    rrule = forms.CharField(
        label="Repeats (RRULE)",
        required=False,
        max_length=500,
        help_text="empty for once; e.g. FREQ=WEEKLY;BYDAY=SU for every Sunday (RFC 5545)",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="only for a window that has already begun (platform admins): why",
    )

    def __init__(self, *args, services, slos, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["slo"].queryset = slos

    def clean_first_start(self):
        moment = self.cleaned_data["first_start"]
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
