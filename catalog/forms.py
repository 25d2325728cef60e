"""Forms of the catalog pages. The request form is generated from the template version's JSON
Schema; the service validates again, so the form and the API give the same answers."""

from __future__ import annotations

from django import forms
from django.utils.html import escape

from catalog.choices import ChangeKind
from catalog.services.approvals import BREAK_GLASS_DEFAULT_HOURS, BREAK_GLASS_MAX_HOURS
from catalog.services.requests import (
    MAX_JUSTIFICATION,
    parameter_errors,
    request_field_errors,
)
from teams.selectors import team_list_requestable

PARAM_PREFIX = "param_"


def _choices(values: list) -> list[tuple[str, str]]:
    return [(str(value), str(value)) for value in values]


def field_for(prop: dict) -> forms.Field:
    """A form field for one JSON Schema property (types limited by the template linter)."""
    common = {
        "label": prop.get("title") or prop["name"].replace("_", " ").capitalize(),
        # Django's form templates show help_text as HTML: a description is text.
        "help_text": escape(prop.get("description", "")),
        "required": prop["required"] and prop.get("type") != "boolean",
        "initial": prop.get("default"),
    }
    kind = prop.get("type")
    if kind == "array":
        return forms.MultipleChoiceField(
            choices=_choices(prop["items"]["enum"]),
            widget=forms.CheckboxSelectMultiple,
            **{**common, "required": False},
        )
    if "enum" in prop:
        blank = [] if prop["required"] else [("", "—")]
        return forms.ChoiceField(choices=blank + _choices(prop["enum"]), **common)
    if kind == "integer":
        attrs = {k: prop[k] for k in ("minimum", "maximum") if k in prop}
        widget = forms.NumberInput(attrs={"min": attrs.get("minimum"), "max": attrs.get("maximum")})
        return forms.IntegerField(widget=widget, **common)
    if kind == "number":
        return forms.FloatField(**common)
    if kind == "boolean":
        return forms.BooleanField(**common)
    return forms.CharField(max_length=prop.get("maxLength"), **common)


class ParameterForm(forms.Form):
    """A form with one field per JSON Schema parameter (named param_<name>) whose problems,
    found by the service's own checks, show next to each field."""

    def add_parameter_fields(self, parameter_fields: list[dict]) -> None:
        self.parameter_names = []
        for prop in parameter_fields:
            self.fields[PARAM_PREFIX + prop["name"]] = field_for(prop)
            self.parameter_names.append(prop["name"])

    @property
    def parameter_fields(self):
        return [self[PARAM_PREFIX + name] for name in self.parameter_names]

    def parameters(self) -> dict:
        """The parameters as JSON: empty optional fields are left out (schema defaults apply)."""
        values = {}
        for name in self.parameter_names:
            value = self.cleaned_data.get(PARAM_PREFIX + name)
            if value in (None, "", []) and not isinstance(value, bool):
                continue
            values[name] = value
        return values

    def show_errors(self, errors: dict[str, list[str]]) -> None:
        """Service errors on the fields that have none yet (every problem shows at once)."""
        for key, messages in errors.items():
            field = self.field_for_error(key)
            if field not in self.errors:
                for message in messages:
                    self.add_error(field, message)

    def field_for_error(self, key: str) -> str | None:
        """The form field of a service error key ("parameters.name" → "param_name")."""
        section, _, name = key.partition(".")
        if section == "parameters":
            return PARAM_PREFIX + name if name else None
        return key if key in self.fields else None

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            for message in messages:
                self.add_error(self.field_for_error(key), message)


def justification_field() -> forms.CharField:
    return forms.CharField(
        label="Justification",
        required=False,
        max_length=MAX_JUSTIFICATION,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need it. Some policies ask for one (for example in production).",
    )


class RequestForm(ParameterForm):
    team = forms.ChoiceField(label="Team")
    ttl_hours = forms.IntegerField(label="Time to live (hours)")
    justification = justification_field()
    change_kind = forms.ChoiceField(
        label="Kind of change",
        required=False,  # a form posted without it files an ordinary change
        choices=ChangeKind.choices,
        initial=ChangeKind.NORMAL,
        widget=forms.RadioSelect,
        help_text="Approvers see it. While the service is frozen by its error budget, only "
        "fixes and break-glass changes reach production.",
    )

    def __init__(self, *args, version, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = version
        teams = list(team_list_requestable(user=user))
        self.fields["team"].choices = [(t.slug, f"{t.name} ({t.slug})") for t in teams]
        if len(teams) == 1:
            self.fields["team"].initial = teams[0].slug
        ttl = self.fields["ttl_hours"]
        ttl.initial = version.default_ttl_hours
        ttl.help_text = f"At most {version.max_ttl_hours} hours."
        ttl.widget.attrs.update({"min": 1, "max": version.max_ttl_hours})
        self.add_parameter_fields(version.parameter_fields)

    @property
    def request_fields(self):
        return [self["team"], self["ttl_hours"], self["justification"], self["change_kind"]]

    def clean(self):
        cleaned = super().clean()
        errors = parameter_errors(self.version, self.parameters())
        errors.update(
            request_field_errors(
                self.version,
                cleaned.get("ttl_hours"),
                cleaned.get("justification", ""),
                cleaned.get("change_kind") or ChangeKind.NORMAL,
            )
        )
        self.show_errors(errors)
        return cleaned


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label="Comment", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="Emergency reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown everywhere the request appears, and kept in the audit store.",
    )
    hours = forms.IntegerField(
        label="Limit (hours)",
        min_value=1,
        max_value=BREAK_GLASS_MAX_HOURS,
        initial=BREAK_GLASS_DEFAULT_HOURS,
    )
