"""Token pages: a person's own tokens, and the service tokens of their teams. A new key is
shown once, on the page that answers its creation (never cached), and never again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import PersonalTokenForm, RevokeForm, RotateForm, ServiceTokenForm


def _shown_once(request, minted: services.Minted, back: str):
    return render(
        request,
        "accounts/token_created.html",
        {"token": minted.token, "key": minted.key, "back": back},
    )


def _form_errors(form, exc: services.TokenInvalid) -> None:
    for field, problems in exc.errors.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@never_cache
@login_required
def token_list(request):
    form = PersonalTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            minted = services.personal_token_create(actor=request.user, **form.cleaned_data)
        except services.TokenInvalid as exc:
            _form_errors(form, exc)
        else:
            return _shown_once(request, minted, "accounts:token-list")
    tokens = list(selectors.personal_tokens_of(user=request.user))
    return render(
        request,
        "accounts/token_list.html",
        {
            "tokens": tokens,
            "form": form,
            "expiring": selectors.expiring_soon(tokens),
            "revoke_form": RevokeForm(),
        },
    )


@login_required
@require_POST
def token_revoke(request, uuid):
    token = get_object_or_404(selectors.personal_tokens_of(user=request.user), uuid=uuid)
    form = RevokeForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.api_token_revoke(actor=request.user, token=token, reason=reason)
    messages.success(request, f"Token {token.name} revoked: calls with it are refused from now on.")
    return redirect("accounts:token-list")


@never_cache
@login_required
def service_token_list(request):
    managed = selectors.teams_managed(user=request.user)
    form = ServiceTokenForm(request.POST or None, teams=managed)
    if request.method == "POST":
        if not managed.exists():
            raise PermissionDenied("Only team admins and platform admins make service tokens.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                minted = services.service_token_create(actor=request.user, **data)
            except services.TokenInvalid as exc:
                _form_errors(form, exc)
            else:
                return _shown_once(request, minted, "accounts:service-token-list")
    tokens = list(selectors.service_tokens_visible(user=request.user))
    managed_ids = set(managed.values_list("pk", flat=True))
    return render(
        request,
        "accounts/service_token_list.html",
        {
            "tokens": tokens,
            "form": form,
            "can_create": bool(managed_ids),
            "managed": managed_ids,
            "expiring": selectors.expiring_soon(tokens),
            "rotate_form": RotateForm(),
            "revoke_form": RevokeForm(),
        },
    )


def _service_token(request, uuid):
    token = get_object_or_404(selectors.service_tokens_visible(user=request.user), uuid=uuid)
    if not services.can_manage(request.user, token):
        raise PermissionDenied("Only the team's admins and platform admins manage its tokens.")
    return token


@never_cache
@login_required
@require_POST
def service_token_rotate(request, uuid):
    token = _service_token(request, uuid)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the overlap as 0 to 168 hours.")
        return redirect("accounts:service-token-list")
    try:
        minted = services.api_token_rotate(
            actor=request.user, token=token, overlap_hours=form.cleaned_data["overlap_hours"]
        )
    except services.TokenInvalid as exc:
        messages.error(request, " ".join(p for problems in exc.errors.values() for p in problems))
        return redirect("accounts:service-token-list")
    return _shown_once(request, minted, "accounts:service-token-list")


@login_required
@require_POST
def service_token_revoke(request, uuid):
    token = _service_token(request, uuid)
    form = RevokeForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    services.api_token_revoke(actor=request.user, token=token, reason=reason)
    messages.success(request, f"Service token {token.name} of {token.team.slug} revoked.")
    return redirect("accounts:service-token-list")
