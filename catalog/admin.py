"""Admin for platform admins. Writes that matter go through catalog.services (audited);
published template versions, requests and decisions are read-only here."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from catalog import services
from catalog.choices import PolicyMode
from catalog.models import (
    DIMENSIONS,
    Budget,
    Policy,
    PolicyDecision,
    Quota,
    Request,
    RequestTransition,
    Template,
    TemplateVersion,
    Webhook,
)
from core.admin import ReadOnlyMixin


class TemplateVersionInline(ReadOnlyMixin, admin.TabularInline):
    model = TemplateVersion
    fields = ["version", "status", "risk_tier", "published_at", "deprecation_reason"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(Template)
class TemplateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["slug", "title", "risk_tier", "latest_version", "owner"]
    search_fields = ["slug", "title"]
    inlines = [TemplateVersionInline]


@admin.action(description="Deprecate the selected versions (no new requests)")
def deprecate_versions(modeladmin, request, queryset):
    done = sum(
        services.template_version_deprecate(actor=request.user, version=v, reason="from the admin")
        for v in queryset
    )
    messages.success(request, f"{done} version(s) deprecated.")


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "version", "status", "risk_tier", "published_at"]
    list_filter = ["status", "risk_tier"]
    actions = [deprecate_versions]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PolicyForm(forms.ModelForm):
    mode = forms.ChoiceField(choices=PolicyMode.choices)
    source = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "style": "font-family:monospace"}),
        help_text="Rego v1: rules deny and warn (sets of messages), optional risk_tier.",
    )
    examples = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100, "style": "font-family:monospace"}),
        help_text='JSON list of {"name", "input", "expect": {allow, deny, warn, risk_tier}}.',
    )

    class Meta:
        model = Policy
        fields = ["slug", "title", "description", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.current_version if self.instance.pk else None
        if current:
            self.fields["slug"].disabled = True
            self.initial.update(
                mode=current.mode,
                source=current.source,
                examples=json.dumps(current.examples, indent=2),
            )

    def clean_examples(self):
        try:
            examples = json.loads(self.cleaned_data["examples"] or "[]")
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not JSON: {exc}") from None
        if not isinstance(examples, list):
            raise ValidationError("a JSON list of examples")
        return examples

    def clean(self):
        cleaned = super().clean()
        if "source" in cleaned and "examples" in cleaned:
            problems = services.policy_problems(
                slug=cleaned.get("slug") or self.instance.slug,
                source=cleaned["source"],
                examples=cleaned["examples"],
            )
            for problem in problems:
                self.add_error("source", problem)
        return cleaned


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ["slug", "title", "mode", "enabled", "current_version", "updated_at"]
    readonly_fields = ["history"]

    @admin.display(description="Versions")
    def history(self, obj):
        versions = obj.versions.select_related("created_by") if obj.pk else []
        return (
            format_html_join(
                mark_safe("<br>"),
                "v{} · {} · {} · {}",
                (
                    (v.number, v.mode, v.created_at.strftime("%Y-%m-%d %H:%M"), v.created_by or "-")
                    for v in versions
                ),
            )
            or "—"
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        policy, _ = services.policy_save(
            actor=request.user,
            slug=data.get("slug") or obj.slug,
            title=data["title"],
            description=data["description"],
            enabled=data["enabled"],
            mode=data["mode"],
            source=data["source"],
            examples=data["examples"],
        )
        form.instance = policy
        obj.pk = policy.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyDecision)
class PolicyDecisionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "policy_version", "mode", "outcome", "enforced", "latency_ms"]
    list_filter = ["outcome", "mode", "enforced"]
    show_full_result_count = False


class QuotaForm(forms.ModelForm):
    class Meta:
        model = Quota
        fields = ["team", "kind", *[limit for limit, _ in DIMENSIONS]]


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    form = QuotaForm
    list_display = ["team", "kind", *[limit for limit, _ in DIMENSIONS]]
    list_filter = ["team"]

    def save_model(self, request, obj, form, change):
        limits = {limit: form.cleaned_data[limit] for limit, _ in DIMENSIONS}
        saved = services.quota_set(actor=request.user, team=obj.team, kind=obj.kind, **limits)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["team", "monthly_limit", "currency"]

    def save_model(self, request, obj, form, change):
        saved = services.budget_set(
            actor=request.user,
            team=obj.team,
            monthly_limit=obj.monthly_limit,
            currency=obj.currency,
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False


class TransitionInline(ReadOnlyMixin, admin.TabularInline):
    model = RequestTransition
    fields = ["created_at", "from_state", "to_state", "actor", "reason", "audit_seq"]
    readonly_fields = fields
    extra = 0


@admin.register(Request)
class RequestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "uuid",
        "template_version",
        "team",
        "requester",
        "state",
        "risk_tier",
        "break_glass",
        "created_at",
    ]
    list_filter = ["state", "risk_tier", "break_glass"]
    search_fields = ["uuid", "team__slug", "requester__username"]
    inlines = [TransitionInline]


class WebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The HMAC-SHA256 signing key. Never shown again; leave empty to keep it.",
    )

    class Meta:
        model = Webhook
        fields = ["name", "url", "team", "events", "active", "secret"]

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        if not secret and not self.instance.pk:
            raise ValidationError("A new webhook needs a signing secret.")
        return secret or self.instance.secret


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "url", "team", "active"]
