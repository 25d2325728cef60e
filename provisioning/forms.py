"""Forms of the runbook and resource pages (the runbook form is generated from the runbook's
parameters, like the request form)."""

from __future__ import annotations

from django import forms

from catalog.forms import ParameterForm, justification_field
from catalog.services.requests import parameter_errors


class RunbookRunForm(ParameterForm):
    team = forms.ChoiceField(label="For team", required=False)
    justification = justification_field()

    def __init__(self, *args, runbook, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.runbook = runbook
        self.fields["team"].choices = [("", "—")] + [
            (t.slug, f"{t.name} ({t.slug})") for t in teams
        ]
        self.add_parameter_fields(runbook.parameter_fields)

    def clean(self):
        cleaned = super().clean()
        self.show_errors(parameter_errors(self.runbook, self.parameters()))
        return cleaned


class ExtendForm(forms.Form):
    hours = forms.IntegerField(label="Extend by (hours)", min_value=1, initial=24)
