"""Sign-in with a lock after repeated failures, counted from the audit store (where
audit/signals.py records every failed login), so that every web process sees the same count."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import ts_text
from audit.services import audit_record


class ThrottledLoginView(auth_views.LoginView):
    """Django's login, refusing an account after repeated failures (counted from the audit
    store, so every web process sees the same count)."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")[:64]
        if username and login_failures(username) >= settings.LOGIN_FAILURE_LIMIT:
            audit_record(
                action="auth.login_throttled",
                object_type="auth.user",
                object_id=username,
                payload={"ip": request.META.get("REMOTE_ADDR", "")},
            )
            form = self.get_form()
            form.add_error(
                None,
                f"Too many failed logins for this account: try again in "
                f"{settings.LOGIN_FAILURE_WINDOW // 60} minutes, or ask an admin to help.",
            )
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)


def login_failures(username: str) -> int:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    return AuditEvent.objects.filter(
        object_type="auth.user",
        object_id=username,
        action="auth.login_failed",
        ts__gte=ts_text(since),
    ).count()
