"""Forms of the token pages."""

from __future__ import annotations

from django import forms
from django.conf import settings

from accounts.choices import TokenScope


def _days_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="Expires in (days)",
        min_value=1,
        max_value=settings.TOKEN_MAX_DAYS,
        initial=settings.TOKEN_DEFAULT_DAYS,
        help_text=f"At most {settings.TOKEN_MAX_DAYS} days (the platform's maximum).",
    )


def _scopes_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.READ],
        help_text="Write and approve include read.",
    )


class PersonalTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. laptop CLI.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"] = _scopes_field()
        self.fields["days"] = _days_field()


class ServiceTokenForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None, to_field_name="slug")
    name = forms.RegexField(
        regex=r"^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$",
        max_length=50,
        help_text="Lower-case letters, digits and hyphens, e.g. deploy-pipeline; its calls act "
        "as NAME@TEAM.",
        error_messages={"invalid": "Use lower-case letters, digits and hyphens."},
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["scopes"] = _scopes_field()
        self.fields["days"] = _days_field()


class RotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        label="Old key keeps working for (hours)",
        min_value=0,
        max_value=7 * 24,
        initial=settings.TOKEN_ROTATION_OVERLAP_HOURS,
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)
