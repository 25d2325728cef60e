"""The authorization matrix: every URL of SSOps × every role, the expected answer written down
once (MATRIX) and checked, together with the audit event each refusal must leave (OWASP ASVS
V8 and V16).

The URL list is read from the URLconf: a URL without a row in MATRIX fails
`test_every_url_has_a_row`, and a row whose URL is gone fails too. Parameterised URLs point at
real objects of team payments — a request waiting for approval, a provisioned one with its run,
steps, resources and a secret, a runbook run waiting for approval, an audit event, an SLO, an
incident — so detail views and writes run for real. Every call runs in a savepoint that is
rolled back, so each role meets the same state. Team search (the outsider's) has the same
objects: the list checks at the end make sure that no list shows one team's objects to the
other (no IDOR), and the matrix holds every detail view to 404 for the outsider.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.services import personal_token_create, service_token_create
from audit.authz import HIDDEN_OBJECTS
from audit.models import AuditEvent
from catalog.services import policy_save, request_submit
from metrics import catalogue
from metrics.models import UnexpectedActor
from metrics.services import incident_open, rating_submit
from provisioning import crypto
from provisioning.models import DriftFinding, OrphanFinding, Resource, ResourceSecret
from provisioning.services import runbook_run_start
from slo.models import BudgetAdjustment, Service
from teams.choices import PlatformGroup, TeamRole
from tests.catalog.conftest import publish, template_document
from tests.dashboards import data
from tests.factories import MembershipFactory, TeamFactory, UserFactory, user_in_group
from tests.provisioning.conftest import grant_step, namespace_step
from tests.provisioning.test_runbooks import publish_runbook

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "outsider",  # charlie: member of search only
    "member",  # bob: member of payments, the requester of its requests
    "approver",  # carol: approver in payments
    "team_admin",  # alice: admin of payments
    "oncall",  # pager: the oncall group
    "executive",  # boss: the executive group (reads everything, changes nothing)
    "platform_admin",  # padmin: the platform-admin group
)

# Answers other than a bare status code.
LOGIN = "login"  # 302 to a login page
AWAY = "away"  # 302 elsewhere without a message (the login page, when signed in already)
DONE = "done"  # 302 after a POST, with a success message
REFUSED = "refused"  # 302 after a POST, with an error message: its state or input, not who

# The table. Targets (the objects a URL names) are payments' objects: `request` waits for
# approval (bob asked), `finished` is ready with its `run`, `step`, `resource` (bob's secret
# not shown yet), `rb_run` is bob's high-risk runbook run waiting for approval. Every object
# named exists, so a 404 to a signed-in caller hides it and must leave an `authz.hidden` event
# (but see NAMED_IN_THE_BODY); a 403 to a signed-in caller must leave an `authz.denied` event;
# nothing else may leave either.
# fmt: off
MATRIX = [
    # (view, method, target,                       then one answer per role, in ROLES' order:
    #                                               anonymous, outsider, member, approver,
    #                                               team admin, on-call, executive, platform admin)
    ("home", "GET", None,                          LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("healthz", "GET", None,                       200, 200, 200, 200, 200, 200, 200, 200),
    ("metrics", "GET", None,                       200, 200, 200, 200, 200, 200, 200, 200),
    ("login", "GET", None,                         200, AWAY, AWAY, AWAY, AWAY, AWAY, AWAY, AWAY),
    ("logout", "POST", None,                       LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN,
                                                   LOGIN, LOGIN),
    # Sign-in through an identity provider: not configured here, so back to the login page.
    ("accounts:oidc-login", "GET", None,           LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN,
                                                   LOGIN, LOGIN),
    ("accounts:oidc-callback", "GET", None,        LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN,
                                                   LOGIN, LOGIN),
    # Django's admin, one row for all its URLs: staff only, and no role here is staff.
    ("admin", "GET", None,                         LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN,
                                                   LOGIN, LOGIN),
    # --- API: who the caller is, the schema ---------------------------------------------------
    ("schema", "GET", None,                        401, 200, 200, 200, 200, 200, 200, 200),
    ("api-docs", "GET", None,                      401, 200, 200, 200, 200, 200, 200, 200),
    ("api:me", "GET", None,                        401, 200, 200, 200, 200, 200, 200, 200),
    # `ssops login` through the identity provider (none configured here): no credentials.
    ("api:oidc-settings", "GET", None,             200, 200, 200, 200, 200, 200, 200, 200),
    ("api:oidc-device-token", "POST", None,        400, 400, 400, 400, 400, 400, 400, 400),
    # --- API: tokens (a person's own; a team's service tokens: its admins manage them) ---------
    ("api:token-list", "GET", None,                401, 200, 200, 200, 200, 200, 200, 200),
    ("api:token-list", "POST", None,               401, 201, 201, 201, 201, 201, 201, 201),
    ("api:token-detail", "GET", "token",           401, 404, 200, 404, 404, 404, 404, 404),
    ("api:token-revoke", "POST", "token",          401, 404, 200, 404, 404, 404, 404, 404),
    ("api:token-rotate", "POST", "token",          401, 404, 201, 404, 404, 404, 404, 404),
    ("api:service-token-list", "GET", None,        401, 200, 200, 200, 200, 200, 200, 200),
    ("api:service-token-list", "POST", None,       401, 403, 403, 403, 201, 403, 403, 201),
    ("api:service-token-detail", "GET", "svc_token", 401, 404, 200, 200, 200, 404, 200, 200),
    ("api:service-token-rotate", "POST", "svc_token", 401, 404, 403, 403, 201, 404, 403, 201),
    ("api:service-token-revoke", "POST", "svc_token", 401, 404, 403, 403, 200, 404, 403, 200),
    # --- API: teams, quotas and budgets (set by platform admins) -------------------------------
    ("api:team-list", "GET", None,                 401, 200, 200, 200, 200, 200, 200, 200),
    ("api:team-detail", "GET", "team",             401, 404, 200, 200, 200, 404, 200, 200),
    ("api:team-usage", "GET", "team",              401, 404, 200, 200, 200, 404, 200, 200),
    ("api:team-quotas", "GET", "team",             401, 404, 200, 200, 200, 404, 200, 200),
    ("api:team-set-quota", "PUT", "quota",         401, 403, 403, 403, 403, 403, 403, 200),
    ("api:team-budget", "PUT", "team",             401, 403, 403, 403, 403, 403, 403, 200),
    # --- API: the catalog and policies (read by all; changed by platform admins) --------------
    ("api:template-list", "GET", None,             401, 200, 200, 200, 200, 200, 200, 200),
    ("api:template-detail", "GET", "template",     401, 200, 200, 200, 200, 200, 200, 200),
    ("api:template-version", "GET", "version",     401, 200, 200, 200, 200, 200, 200, 200),
    ("api:template-deprecate", "POST", "template", 401, 403, 403, 403, 403, 403, 403, 200),
    ("api:policy-list", "GET", None,               401, 200, 200, 200, 200, 200, 200, 200),
    ("api:policy-list", "POST", None,              401, 403, 403, 403, 403, 403, 403, 201),
    ("api:policy-detail", "GET", "policy",         401, 200, 200, 200, 200, 200, 200, 200),
    ("api:policy-detail", "PUT", "policy",         401, 403, 403, 403, 403, 403, 403, 200),
    ("api:policy-detail", "PATCH", "policy",       401, 403, 403, 403, 403, 403, 403, 200),
    ("api:policy-evaluate", "POST", "policy",      401, 403, 403, 403, 403, 403, 403, 200),
    ("api:policy-decision-list", "GET", None,      401, 200, 200, 200, 200, 200, 200, 200),
    # --- API: requests (members file; approvers decide, never on their own; requester, team
    # admin or platform admin cancel; break-glass is the platform admin's) ----------------------
    ("api:request-list", "GET", None,              401, 200, 200, 200, 200, 200, 200, 200),
    ("api:request-list", "POST", None,             401, 403, 201, 201, 201, 403, 403, 201),
    ("api:request-detail", "GET", "request",       401, 404, 200, 200, 200, 404, 200, 200),
    ("api:request-approve", "POST", "request",     401, 404, 403, 200, 200, 404, 403, 200),
    ("api:request-reject", "POST", "request",      401, 404, 403, 200, 200, 404, 403, 200),
    ("api:request-cancel", "POST", "request",      401, 404, 200, 403, 200, 404, 403, 200),
    ("api:request-break-glass", "POST", "request", 401, 404, 403, 403, 403, 404, 403, 200),
    ("api:approval-list", "GET", None,             401, 200, 200, 200, 200, 200, 200, 200),
    # --- API: the provisioning engine (a finished run cannot be cancelled: 409 once allowed) --
    ("api:run-list", "GET", None,                  401, 200, 200, 200, 200, 200, 200, 200),
    ("api:run-detail", "GET", "run",               401, 404, 200, 200, 200, 404, 200, 200),
    ("api:run-cancel", "POST", "run",              401, 404, 409, 403, 409, 404, 403, 409),
    ("api:step-list", "GET", None,                 401, 200, 200, 200, 200, 200, 200, 200),
    ("api:step-detail", "GET", "step",             401, 404, 200, 200, 200, 404, 200, 200),
    ("api:resource-list", "GET", None,             401, 200, 200, 200, 200, 200, 200, 200),
    ("api:resource-detail", "GET", "resource",     401, 404, 200, 200, 200, 404, 200, 200),
    ("api:resource-extend", "POST", "resource",    401, 404, 200, 200, 200, 404, 403, 200),
    ("api:resource-delete-all", "POST", "resource", 401, 404, 202, 202, 202, 404, 403, 202),
    ("api:resource-reveal-secret", "POST", "resource",
                                                   401, 404, 200, 403, 403, 404, 403, 403),
    ("api:orphan-finding-list", "GET", None,       401, 200, 200, 200, 200, 200, 200, 200),
    # Drift: the team's admins (and platform admins) accept a change; they and on-call re-apply.
    ("api:drift-finding-list", "GET", None,        401, 200, 200, 200, 200, 200, 200, 200),
    ("api:drift-finding-detail", "GET", "drift",   401, 404, 200, 200, 200, 200, 200, 200),
    ("api:drift-finding-accept", "POST", "drift",  401, 404, 403, 403, 200, 403, 403, 200),
    ("api:drift-finding-reapply", "POST", "drift", 401, 404, 403, 403, 200, 200, 403, 200),
    # --- API: runbooks (on-call and the team's members run; another on-call engineer or a team
    # approver approves, never the one who asked) ----------------------------------------------
    ("api:runbook-list", "GET", None,              401, 200, 200, 200, 200, 200, 200, 200),
    ("api:runbook-detail", "GET", "runbook",       401, 200, 200, 200, 200, 200, 200, 200),
    ("api:runbook-run", "POST", "runbook",         401, 403, 201, 201, 201, 201, 403, 201),
    ("api:runbook-run-list", "GET", None,          401, 200, 200, 200, 200, 200, 200, 200),
    ("api:runbook-run-detail", "GET", "rb_run",    401, 404, 200, 200, 200, 200, 200, 200),
    ("api:runbook-run-approve", "POST", "rb_run",  401, 404, 403, 200, 200, 200, 403, 200),
    ("api:runbook-run-reject", "POST", "rb_run",   401, 404, 403, 200, 200, 200, 403, 200),
    # --- API: the audit store (read only) ------------------------------------------------------
    ("api:audit-event-list", "GET", None,          401, 200, 200, 200, 200, 200, 200, 200),
    ("api:audit-event-detail", "GET", "event",     401, 404, 200, 200, 200, 404, 200, 200),
    # --- API: SLOs (the owner team's admins and platform admins change them) -------------------
    ("api:slo-list", "GET", None,                  401, 200, 200, 200, 200, 200, 200, 200),
    ("api:slo-list", "POST", None,                 401, 403, 403, 403, 201, 403, 403, 201),
    ("api:slo-detail", "GET", "slo",               401, 404, 200, 200, 200, 200, 200, 200),
    ("api:slo-detail", "PUT", "slo",               401, 404, 403, 403, 200, 403, 403, 200),
    ("api:slo-detail", "PATCH", "slo",             401, 404, 403, 403, 200, 403, 403, 200),
    ("api:slo-detail", "DELETE", "slo",            401, 404, 403, 403, 204, 403, 403, 204),
    ("api:slo-snapshots", "GET", "slo",            401, 404, 200, 200, 200, 200, 200, 200),
    ("api:slo-alert-events", "GET", "slo",         401, 404, 200, 200, 200, 200, 200, 200),
    ("api:slo-backtest", "GET", "slo",             401, 404, 200, 200, 200, 200, 200, 200),
    # A backtest of an SLO as edited: whoever may save it (the team's admins, platform admins).
    ("api:slo-backtest-draft", "POST", None,       401, 403, 403, 403, 200, 403, 403, 200),
    # Planned maintenance: the team's admins plan their services' windows ahead of time.
    ("api:budget-adjustment-list", "GET", None,    401, 200, 200, 200, 200, 200, 200, 200),
    ("api:budget-adjustment-list", "POST", None,   401, 403, 403, 403, 201, 403, 403, 201),
    ("api:budget-adjustment-detail", "GET", "adjustment",
                                                   401, 404, 200, 200, 200, 200, 200, 200),
    ("api:budget-adjustment-detail", "DELETE", "adjustment",
                                                   401, 404, 403, 403, 204, 403, 403, 204),
    # The deploy gate: payments' service has a paging SLO, so it answers 409 (frozen); only a
    # platform admin lifts a freeze.
    ("api:gate-detail", "GET", "service",          401, 404, 409, 409, 409, 409, 409, 409),
    ("api:gate-override", "POST", "service",       401, 404, 403, 403, 403, 403, 403, 201),
    ("api:gate-override", "DELETE", "service",     401, 404, 403, 403, 403, 403, 403, 204),
    # --- API: platform metrics and reports (billing and job runs: those who see totals) -------
    ("api:platform-metric-list", "GET", None,      401, 200, 200, 200, 200, 200, 200, 200),
    ("api:platform-metric-detail", "GET", "metric", 401, 200, 200, 200, 200, 200, 200, 200),
    ("api:platform-metric-history", "GET", "metric", 401, 200, 200, 200, 200, 200, 200, 200),
    ("api:platform-metric-rows", "GET", "metric",  401, 200, 200, 200, 200, 200, 200, 200),
    ("api:platform-snapshot-list", "GET", None,    401, 200, 200, 200, 200, 200, 200, 200),
    ("api:billing-import-list", "GET", None,       401, 403, 403, 403, 403, 200, 200, 200),
    # 400: the platform admin gets through and the file is refused.
    ("api:billing-import-list", "POST", None,      401, 403, 403, 403, 403, 403, 403, 400),
    ("api:billing-row-list", "GET", None,          401, 403, 403, 403, 403, 200, 200, 200),
    ("api:budget-list", "GET", None,               401, 200, 200, 200, 200, 200, 200, 200),
    ("api:audit-gap-list", "GET", None,            401, 200, 200, 200, 200, 200, 200, 200),
    ("api:unexpected-actor-list", "GET", None,     401, 200, 200, 200, 200, 200, 200, 200),
    ("api:job-run-list", "GET", None,              401, 403, 403, 403, 403, 200, 200, 200),
    ("api:job-run-overview", "GET", None,          401, 403, 403, 403, 403, 200, 200, 200),
    ("api:probe-list", "GET", None,                401, 200, 200, 200, 200, 200, 200, 200),
    # --- API: incidents (on-call and platform admins act) and ratings (the requester rates) ---
    ("api:incident-list", "GET", None,             401, 200, 200, 200, 200, 200, 200, 200),
    ("api:incident-list", "POST", None,            401, 403, 403, 403, 403, 201, 403, 201),
    ("api:incident-detail", "GET", "incident",     401, 404, 200, 200, 200, 200, 200, 200),
    ("api:incident-actions", "GET", "incident",    401, 404, 200, 200, 200, 200, 200, 200),
    ("api:incident-actions", "POST", "incident",   401, 404, 403, 403, 403, 201, 403, 201),
    ("api:incident-resolve", "POST", "incident",   401, 404, 403, 403, 403, 200, 403, 200),
    ("api:incident-acknowledge", "POST", "incident",
                                                   401, 404, 403, 403, 403, 200, 403, 200),
    ("api:rating-list", "GET", None,               401, 200, 200, 200, 200, 200, 200, 200),
    # The request is named in the body: a 404 there is not audited (see README).
    ("api:rating-list", "POST", None,              401, 404, 201, 403, 403, 404, 403, 403),
    # --- pages: the catalog ---------------------------------------------------------------------
    ("catalog:template-list", "GET", None,         LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("catalog:template-detail", "GET", "template", LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("catalog:request-create", "GET", "template",  LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("catalog:request-freeze", "GET", "template",  LOGIN, 200, 200, 200, 200, 200, 200, 200),
    # 200: the form again, its team field refusing payments (not one of the caller's teams).
    ("catalog:request-create", "POST", "template", LOGIN, 200, DONE, DONE, DONE, 200, 200, DONE),
    ("catalog:request-list", "GET", None,          LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("catalog:request-detail", "GET", "request",   LOGIN, 404, 200, 200, 200, 404, 200, 200),
    ("catalog:request-timeline", "GET", "request", LOGIN, 404, 200, 200, 200, 404, 200, 200),
    ("catalog:request-approve", "POST", "request", LOGIN, 404, 403, DONE, DONE, 404, 403, DONE),
    ("catalog:request-reject", "POST", "request",  LOGIN, 404, 403, DONE, DONE, 404, 403, DONE),
    ("catalog:request-cancel", "POST", "request",  LOGIN, 404, DONE, 403, DONE, 404, 403, DONE),
    ("catalog:request-break-glass", "POST", "request",
                                                   LOGIN, 404, 403, 403, 403, 404, 403, DONE),
    ("catalog:approval-inbox", "GET", None,        LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("catalog:team-list", "GET", None,             LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("catalog:team-usage", "GET", "team",          LOGIN, 404, 200, 200, 200, 404, 200, 200),
    # Rollbacks offered on an incident's page: platform admins only.
    ("catalog:template-version-deprecate", "POST", "version",
                                                   LOGIN, 403, 403, 403, 403, 403, 403, DONE),
    ("catalog:policy-restore", "POST", "policy_version",
                                                   LOGIN, 403, 403, 403, 403, 403, 403, DONE),
    ("provisioning:run-cancel", "POST", "run",          LOGIN, 404, REFUSED, 403, REFUSED, 404, 403,
                                                   REFUSED),
    ("provisioning:resource-list", "GET", None,         LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("provisioning:orphan-report", "GET", None,         LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("provisioning:drift-accept", "POST", "drift",      LOGIN, 404, 403, 403, DONE, 403, 403, DONE),
    ("provisioning:drift-reapply", "POST", "drift",     LOGIN, 404, 403, 403, DONE, DONE, 403, DONE),  # noqa: E501
    ("provisioning:resource-detail", "GET", "resource", LOGIN, 404, 200, 200, 200, 404, 200, 200),
    ("provisioning:resource-extend", "POST", "resource", LOGIN, 404, DONE, DONE, DONE, 404, 403, DONE),  # noqa: E501
    ("provisioning:resource-delete", "POST", "resource", LOGIN, 404, DONE, DONE, DONE, 404, 403, DONE),  # noqa: E501
    ("provisioning:resource-secret", "POST", "resource", LOGIN, 404, 200, 403, 403, 404, 403, 403),
    ("provisioning:runbook-list", "GET", None,          LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("provisioning:runbook-detail", "GET", "runbook",   LOGIN, 200, 200, 200, 200, 200, 200, 200),
    # 200: the form again, its team field refusing payments.
    ("provisioning:runbook-run", "POST", "runbook",     LOGIN, 200, DONE, DONE, DONE, DONE, 403, DONE),  # noqa: E501
    ("provisioning:runbook-run-detail", "GET", "rb_run", LOGIN, 404, 200, 200, 200, 200, 200, 200),
    ("provisioning:runbook-run-live", "GET", "rb_run",  LOGIN, 404, 200, 200, 200, 200, 200, 200),
    ("provisioning:runbook-run-approve", "POST", "rb_run",
                                                   LOGIN, 404, 403, DONE, DONE, DONE, 403, DONE),
    ("provisioning:runbook-run-reject", "POST", "rb_run",
                                                   LOGIN, 404, 403, DONE, DONE, DONE, 403, DONE),
    # --- pages: audit, SLOs, platform metrics, incidents, ratings --------------------------------
    ("audit:event-list", "GET", None,              LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("audit:event-detail", "GET", "event",         LOGIN, 404, 200, 200, 200, 404, 200, 200),
    ("slo:slo-list", "GET", None,                  LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("slo:plotly-js", "GET", None,                 LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("slo:slo-detail", "GET", "slo",               LOGIN, 404, 200, 200, 200, 200, 200, 200),
    ("slo:slo-new", "GET", None,                   LOGIN, 403, 403, 403, 200, 403, 403, 200),
    ("slo:slo-edit", "GET", "slo",                 LOGIN, 404, 403, 403, 200, 403, 403, 200),
    ("slo:maintenance-list", "GET", None,          LOGIN, 200, 200, 200, 200, 200, 200, 200),
    # 200: the form again, saying who may plan (or, for the outsider, that the service is not
    # one of theirs).
    ("slo:maintenance-list", "POST", None,         LOGIN, 200, 200, 200, DONE, 200, 200, DONE),
    ("metrics:metric-list", "GET", None,               LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("metrics:metric-detail", "GET", "metric",         LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("metrics:metric-rows", "GET", "metric",           LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("metrics:survey", "POST", None,                   LOGIN, DONE, DONE, DONE, DONE, DONE, DONE,
                                                       DONE),
    ("metrics:budgets", "GET", None,                   LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("metrics:incident-list", "GET", None,             LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("metrics:incident-open", "POST", None,            LOGIN, 403, 403, 403, 403, DONE, 403, DONE),
    ("metrics:incident-detail", "GET", "incident",     LOGIN, 404, 200, 200, 200, 200, 200, 200),
    ("metrics:incident-acknowledge", "POST", "incident",
                                                       LOGIN, 404, 403, 403, 403, DONE, 403, DONE),
    ("metrics:incident-action", "POST", "incident",    LOGIN, 404, 403, 403, 403, DONE, 403, DONE),
    ("metrics:incident-resolve", "POST", "incident",   LOGIN, 404, 403, 403, 403, DONE, 403, DONE),
    ("metrics:request-rating", "GET", "finished",      LOGIN, 404, 200, 200, 200, 404, 200, 200),
    ("metrics:request-rating", "POST", "finished",     LOGIN, 404, DONE, 403, 403, 404, 403, 403),
    # --- pages: tokens ---------------------------------------------------------------------------
    ("accounts:token-list", "GET", None,           LOGIN, 200, 200, 200, 200, 200, 200, 200),
    # 200: the page that shows the new key once.
    ("accounts:token-list", "POST", None,          LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("accounts:token-revoke", "POST", "token",     LOGIN, 404, DONE, 404, 404, 404, 404, 404),
    ("accounts:service-token-list", "GET", None,   LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("accounts:service-token-list", "POST", None,  LOGIN, 403, 403, 403, 200, 403, 403, 200),
    ("accounts:service-token-rotate", "POST", "svc_token",
                                                   LOGIN, 404, 403, 403, 200, 404, 403, 200),
    ("accounts:service-token-revoke", "POST", "svc_token",
                                                   LOGIN, 404, 403, 403, DONE, 404, 403, DONE),
    # --- pages: dashboards (everyone signed in; each sees their scope) -------------------------
    ("dashboards:executive", "GET", None,          LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("dashboards:oncall", "GET", None,             LOGIN, 200, 200, 200, 200, 200, 200, 200),
    ("dashboards:debug", "GET", "request",         LOGIN, 404, 200, 200, 200, 200, 200, 200),
    ("dashboards:slo", "GET", "slo",               LOGIN, 404, 200, 200, 200, 200, 200, 200),
]
# fmt: on

GUARD = 'deny contains "cpu over 9000 needs a word with the platform team" if {}'.format(
    "input.request.parameters.cpu > 9000"
)
NEW_SLO = {
    "name": "orders-availability",
    "service": "orders",
    "team": "payments",
    "objective": 0.999,
    "window_duration": "28d",
    "numerator_kind": "bad",
    "numerator_query": 'sum(http_requests_total{service="orders",code=~"5.."})',
    "total_query": 'http_requests_total{service="orders"}',
}


def _policy(slug: str) -> dict:
    return {"slug": slug, "title": slug, "source": f"package {slug.replace('-', '_')}\n\n{GUARD}\n"}


# What each write sends: valid input, so that whoever may do it gets through.
BODIES = {
    ("api:token-list", "POST"): {"name": "matrix", "scopes": ["read"]},
    ("api:token-rotate", "POST"): {"overlap_hours": 1},
    ("api:service-token-list", "POST"): {"team": "payments", "name": "matrix", "scopes": ["read"]},
    ("api:service-token-rotate", "POST"): {"overlap_hours": 1},
    ("accounts:token-list", "POST"): {"name": "matrix", "scopes": ["read"], "days": 7},
    ("accounts:service-token-list", "POST"): {
        "team": "payments",
        "name": "matrix",
        "scopes": ["read"],
        "days": 7,
    },
    ("accounts:service-token-rotate", "POST"): {"overlap_hours": 1},
    ("api:team-budget", "PUT"): {"monthly_limit": "100.00"},
    ("api:team-set-quota", "PUT"): {"max_count": 5},
    ("api:template-deprecate", "POST"): {"version": "1.0.0", "reason": "superseded"},
    ("api:policy-list", "POST"): _policy("guard-two"),
    ("api:policy-detail", "PUT"): _policy("guard"),
    ("api:policy-detail", "PATCH"): {"title": "Guard (renamed)"},
    ("api:policy-evaluate", "POST"): {"input": {"request": {"parameters": {"cpu": 1}}}},
    ("api:request-list", "POST"): {
        "template": "widget",
        "team": "payments",
        "parameters": {"name": "payments-new"},
    },
    ("api:request-approve", "POST"): {"comment": "fine"},
    ("api:request-reject", "POST"): {"comment": "not now"},
    ("api:request-break-glass", "POST"): {"reason": "checkout is down for everyone", "hours": 1},
    ("api:resource-extend", "POST"): {"hours": 1},
    ("api:runbook-run", "POST"): {"team": "payments", "parameters": {"service": "api"}},
    ("api:runbook-run-approve", "POST"): {"comment": "go"},
    ("api:runbook-run-reject", "POST"): {"comment": "not now"},
    ("api:slo-list", "POST"): NEW_SLO,
    ("api:slo-detail", "PUT"): NEW_SLO,
    ("api:slo-detail", "PATCH"): {"description": "checked"},
    ("api:incident-list", "POST"): {"title": "queue stuck", "team": "payments"},
    ("api:incident-actions", "POST"): {"description": "restarted the worker"},
    ("api:slo-backtest-draft", "POST"): NEW_SLO,
    ("api:budget-adjustment-list", "POST"): {
        "name": "payments-window-two",
        "service": "svc-payments",
        "first_start": "2099-01-01T02:00:00Z",
        "duration_seconds": 1800,
    },
    ("api:gate-override", "POST"): {"hours": 2, "reason": "the fix ships with this release"},
    ("slo:maintenance-list", "POST"): {
        "name": "payments-window-three",
        "service": "svc-payments",
        "first_start": "2099-01-01 02:00",
        "minutes": 30,
    },
    ("catalog:request-create", "POST"): {
        "team": "payments",
        "param_name": "payments-form",
        "ttl_hours": 24,
    },
    ("catalog:request-approve", "POST"): {"comment": "fine"},
    ("catalog:request-reject", "POST"): {"comment": "not now"},
    ("catalog:request-break-glass", "POST"): {
        "reason": "checkout is down for everyone",
        "hours": 1,
    },
    ("provisioning:resource-extend", "POST"): {"hours": 1},
    ("provisioning:runbook-run", "POST"): {"team": "payments", "param_service": "api"},
    ("provisioning:runbook-run-approve", "POST"): {"comment": "go"},
    ("provisioning:runbook-run-reject", "POST"): {"comment": "not now"},
    ("metrics:incident-open", "POST"): {"title": "queue stuck", "team": "payments"},
    ("metrics:incident-action", "POST"): {"description": "restarted the worker"},
    ("metrics:request-rating", "POST"): {"score": "4"},
    ("metrics:survey", "POST"): {"score": "8"},
}


def body_of(world, view: str, method: str):
    if (view, method) == ("api:billing-import-list", "POST"):
        return {"file": SimpleUploadedFile("focus.csv", b"not,a,focus,file\n")}
    if (view, method) == ("api:rating-list", "POST"):
        return {"request": str(world.ready[0].uuid), "score": 4}
    return BODIES.get((view, method))


# --- the world ---------------------------------------------------------------------------------


def build_world() -> SimpleNamespace:
    """Teams payments and search, one user per role, and the same objects for both teams."""
    payments = TeamFactory(slug="payments", name="Payments", cost_center="CC-PAY")
    search = TeamFactory(slug="search", name="Search", cost_center="CC-SRCH")

    def member(team, username, role):
        return MembershipFactory(team=team, user=UserFactory(username=username), role=role).user

    users = {
        "outsider": member(search, "charlie", TeamRole.MEMBER),
        "member": member(payments, "bob", TeamRole.MEMBER),
        "approver": member(payments, "carol", TeamRole.APPROVER),
        "team_admin": member(payments, "alice", TeamRole.ADMIN),
        "oncall": user_in_group("pager", PlatformGroup.ONCALL),
        "executive": user_in_group("boss", PlatformGroup.EXECUTIVE),
        "platform_admin": user_in_group("padmin", PlatformGroup.ADMIN),
    }
    pager = users["oncall"]
    requesters = ((users["member"], payments), (users["outsider"], search))
    policy_save(actor=None, slug="guard", title="Guard", source=f"package guard\n\n{GUARD}\n")
    publish(
        template_document(
            "widget",
            steps=[grant_step(), namespace_step()],
            resources={"kind": "widget", "count": 1},
            output={"values": {}},
        )
    )
    publish(
        template_document("gadget", riskTier="medium", approvals={"required": 1, "timeout": "24h"})
    )
    publish_runbook(riskTier="high")

    def both(make):
        return [make(user, team) for user, team in requesters]

    pending = both(
        lambda user, team: request_submit(
            actor=user, template="gadget", team=team, parameters={"name": f"{team.slug}-pending"}
        )
    )
    with TestCase.captureOnCommitCallbacks(execute=True):  # the engine provisions them
        ready = both(
            lambda user, team: request_submit(
                actor=user, template="widget", team=team, parameters={"name": f"{team.slug}-ready"}
            )
        )
    for item in ready:
        item.refresh_from_db()
        assert item.state == "ready", item.state
    runbook_runs = both(
        lambda user, team: runbook_run_start(
            actor=user, runbook="ping-service", team=team, parameters={"service": team.slug}
        )
    )
    incidents = both(
        lambda user, team: incident_open(actor=pager, title=f"{team.slug} is slow", team=team)
    )
    slos = both(lambda user, team: data.add_slos(team, 1)[0])
    adjustments = both(
        lambda user, team: BudgetAdjustment.objects.create(
            name=f"{team.slug}-window",
            service=Service.objects.get(name=f"svc-{team.slug}"),
            first_start=timezone.now() + timedelta(days=30),
            duration_seconds=3600,
        )
    )
    both(lambda user, team: data.add_costs(team))
    both(lambda user, team: data.add_metric_days(team, 2))
    data.add_metric_days(None, 2)
    data.add_operations(1)
    now = timezone.now()
    orphans = both(
        lambda user, team: OrphanFinding.objects.create(
            kind="backend_object",
            backend="kubernetes",
            name=f"{team.slug}-lost",
            team=team,
            reason="not in the inventory",
            first_seen_at=now,
            last_seen_at=now,
        )
    )
    rating_submit(actor=users["outsider"], request=ready[1], score=5, comment="search-rated")
    personal = personal_token_create(actor=users["member"], name="bob's", scopes=["read"]).token
    drifts = both(
        lambda user, team: DriftFinding.objects.create(
            resource=Resource.objects.filter(team=team).first(),
            team=team,
            differences=[{"what": "role.connection_limit", "expected": -1, "found": 5}],
            first_seen_at=now,
            last_seen_at=now,
        )
    )
    both(
        lambda user, team: UnexpectedActor.objects.create(
            rule="no_role",
            key=f"{team.slug}-1",
            actor="intruder",
            team=team,
            occurred_at=now,
            detail=f"{team.slug}-intruder did something",
            found_at=now,
        )
    )
    service_tokens = [
        service_token_create(actor=users["platform_admin"], team=t, name="ci", scopes=["read"])
        for t in (payments, search)
    ]
    runs = [item.runs.get() for item in ready]
    step = runs[0].steps.order_by("position").first()
    resource = Resource.objects.get(request=ready[0], kind="access.grant")
    ResourceSecret.objects.create(
        step=step, resource=resource, ciphertext=crypto.encrypt("s3cret-for-bob")
    )
    event = AuditEvent.objects.filter(team_id=payments.pk).order_by("seq").first()
    world = SimpleNamespace(
        users=users, teams=(payments, search), pending=pending, ready=ready, runs=runs
    )
    world.targets = {
        None: {},
        "template": {"slug": "widget"},
        "version": {"slug": "widget", "version": "1.0.0"},
        "team": {"slug": "payments"},
        "quota": {"slug": "payments", "kind": "widget"},
        "policy": {"slug": "guard"},
        "policy_version": {"slug": "guard", "number": 1},
        "request": {"uuid": pending[0].uuid},
        "finished": {"uuid": ready[0].uuid},
        "run": {"uuid": runs[0].uuid},
        "step": {"uuid": step.uuid},
        "resource": {"uuid": resource.uuid},
        "runbook": {"slug": "ping-service"},
        "rb_run": {"uuid": runbook_runs[0].uuid},
        "event": {"uuid": event.uuid},
        "slo": {"key": slos[0].name},
        "service": {"service": slos[0].service.name},
        "adjustment": {"name": adjustments[0].name},
        "metric": {"key": "M1"},
        "incident": {"uuid": incidents[0].uuid},
        "token": {"uuid": personal.uuid},
        "svc_token": {"uuid": service_tokens[0].token.uuid},
        "drift": {"uuid": drifts[0].uuid},
    }
    # What would give away each team's objects if another team's list showed it.
    world.markers = {}
    for index, team in enumerate(world.teams):
        run = runs[index]
        world.markers[team.slug] = {
            team.cost_center,
            f'"team":"{team.slug}"',
            f'"slug":"{team.slug}"',
            f"{team.slug}-pending",
            f"{team.slug}-ready",
            f"{team.slug} is slow",
            f"{team.slug}-lost",
            slos[index].name,
            *(str(o.uuid) for o in (pending[index], ready[index], runbook_runs[index], run)),
            *(str(o.uuid) for o in (incidents[index], slos[index], orphans[index])),
            *(str(s.uuid) for s in run.steps.all()),
            *(str(r.uuid) for r in Resource.objects.filter(team=team)),
            *(str(e.uuid) for e in AuditEvent.objects.filter(team_id=team.pk)),
            str(service_tokens[index].token.uuid),
            f"ci@{team.slug}",
            str(drifts[index].uuid),
            f"{team.slug}-intruder",
        }
    world.markers["search"].add("search-rated")
    # What each team's own lists must show (so that an absent marker means a hidden object).
    world.own = {
        team.slug: {
            "team": team.cost_center,
            "request": str(pending[index].uuid),
            "run": str(runs[index].uuid),
            "resource": str(Resource.objects.filter(team=team).first().uuid),
            "rb_run": str(runbook_runs[index].uuid),
            "orphan": f"{team.slug}-lost",
            "event": str(AuditEvent.objects.filter(team_id=team.pk).last().uuid),
            "slo": slos[index].name,
            "incident": f"{team.slug} is slow",
            "svc_token": f"ci@{team.slug}",
            "drift": str(drifts[index].uuid),
            "actor": f"{team.slug}-intruder",
        }
        for index, team in enumerate(world.teams)
    }
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One set of objects for the whole module, rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def clients(world, django_db_blocker):
    made = {"anonymous": Client()}
    with django_db_blocker.unblock():
        for role, user in world.users.items():
            made[role] = Client()
            made[role].force_login(user)
    return made


def outcome(response) -> int | str:
    if response.status_code != 302:
        return response.status_code
    if "/login/" in response["Location"]:
        return LOGIN
    levels = {m.level for m in get_messages(response.wsgi_request)}
    if message_levels.ERROR in levels:
        return REFUSED
    if message_levels.SUCCESS in levels:
        return DONE
    return AWAY


def call(client, method: str, path: str, body=None):
    """One call in a savepoint that is rolled back: the answer and the audit events it left."""
    cookies = copy.deepcopy(client.cookies)  # logging out must not log the role's client out
    with transaction.atomic():
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        kwargs = {}
        multipart = isinstance(body, dict) and any(hasattr(v, "read") for v in body.values())
        if body is not None and path.startswith("/api/") and not multipart:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        elif body is not None:
            kwargs = {"data": body}
        response = getattr(client, method.lower())(path, **kwargs)
        events = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq"))
        transaction.set_rollback(True)
    client.cookies = cookies
    return response, events


# --- the URL list --------------------------------------------------------------------------------


def url_names(patterns=None, namespace="") -> set[str]:
    """Every URL's name as the table names it; all of Django's admin is one row, `admin`."""
    names = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            names |= url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            name = namespace + (entry.name or f"<unnamed {entry.pattern}>")
            names.add("admin" if name.startswith("admin:") else name)
    return names


def url_callbacks(patterns=None, namespace="") -> dict[str, list]:
    found: dict[str, list] = {}
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            for name, callbacks in url_callbacks(entry.url_patterns, inner).items():
                found.setdefault(name, []).extend(callbacks)
        elif isinstance(entry, URLPattern) and entry.name:
            found.setdefault(namespace + entry.name, []).append(entry.callback)
    return found


def path_of(world, view: str, target) -> str:
    if view == "admin":
        return reverse("admin:index")
    return reverse(view, kwargs=world.targets[target])


ROWS_BY_VIEW: dict[str, list[tuple]] = {}
for _row in MATRIX:
    ROWS_BY_VIEW.setdefault(_row[0], []).append(_row)


def test_every_url_has_a_row():
    routed, tabled = url_names(), set(ROWS_BY_VIEW)
    assert not routed - tabled, f"URLs without a row in MATRIX: {sorted(routed - tabled)}"
    assert not tabled - routed, f"rows of URLs that are gone: {sorted(tabled - routed)}"
    assert all(len(row) == 3 + len(ROLES) for row in MATRIX)
    assert len({row[:2] for row in MATRIX}) == len(MATRIX), "a (view, method) twice"


def test_the_api_rows_cover_every_method_each_api_view_serves():
    """A new method on an API view (say DELETE on requests) needs its row too."""
    missing = []
    for name, callbacks in url_callbacks().items():
        served = set()
        for callback in callbacks:
            if getattr(callback, "actions", None):  # a DRF viewset route
                served |= {method.upper() for method in callback.actions}
            elif getattr(callback, "cls", None) is not None:  # a DRF APIView
                served |= {
                    m.upper()
                    for m in ("get", "post", "put", "patch", "delete")
                    if hasattr(callback.cls, m)
                }
        tabled = {row[1] for row in ROWS_BY_VIEW.get(name, [])}
        served -= {"HEAD", "OPTIONS"}  # HEAD is answered as GET (DRF adds it once it served one)
        if served - tabled:
            missing.append((name, sorted(served - tabled)))
    assert not missing, f"methods without a row: {missing}"


def test_every_hidden_object_url_exists():
    assert not set(HIDDEN_OBJECTS) - url_names()


@pytest.mark.parametrize("view", sorted(ROWS_BY_VIEW))
def test_the_matrix(world, clients, view):
    """Each role gets the answer the table says, and each refusal leaves its audit event."""
    problems = []
    for _, method, target, *expected in ROWS_BY_VIEW[view]:
        path = path_of(world, view, target)
        for role, want in zip(ROLES, expected, strict=True):
            response, events = call(clients[role], method, path, body_of(world, view, method))
            got = outcome(response)
            if got != want:
                problems.append(f"{method} {path} as {role}: {got}, the table says {want}")
                continue
            authz = [e for e in events if e.action.startswith(("authz.", "authn."))]
            problems += _audit_problems(world, role, view, method, path, got, authz)
    assert not problems, "\n".join(problems)


# 404s that hide an object named in the request's body, not in its URL: the middleware cannot
# tell these from a missing object, so they are not audited. Every other 404 in MATRIX hides an
# object that exists and must leave an `authz.hidden` event.
NAMED_IN_THE_BODY = {("api:rating-list", "POST")}


def _audit_problems(world, role, view, method, path, got, events) -> list[str]:
    where = f"{method} {path} as {role} ({got})"
    user = world.users.get(role)
    if got == 403 and user is not None:
        if [e.action for e in events] != ["authz.denied"]:
            return [f"{where}: audited {[e.action for e in events]}, wanted authz.denied"]
        event = events[0]
        payload = event.content["payload"]
        if (event.actor_id, payload["view"], payload["method"], payload["path"]) != (
            user.pk,
            view,
            method,
            path,
        ):
            return [f"{where}: the authz.denied event says {event.content}"]
        if not event.content["request_id"]:
            return [f"{where}: the authz.denied event has no request id"]
        return []
    if got == 404 and user is not None and (view, method) not in NAMED_IN_THE_BODY:
        if [e.action for e in events] != ["authz.hidden"]:
            return [f"{where}: audited {[e.action for e in events]}, wanted authz.hidden"]
        event = events[0]
        if event.actor_id is not None or event.content["payload"]["user"] != user.username:
            return [f"{where}: the authz.hidden event says {event.content}"]
        return []
    if events:
        return [f"{where}: audited {[e.action for e in events]}, wanted nothing"]
    return []


# --- lists: no object of one team in another team's lists -----------------------------------------

LISTS = [
    "/api/teams/",
    "/api/requests/",
    "/api/approvals/",
    "/api/policy-decisions/",
    "/api/runs/",
    "/api/steps/",
    "/api/resources/",
    "/api/runbook-runs/",
    "/api/orphan-findings/",
    "/api/audit/events/",
    "/api/slos/",
    "/api/platform-metric-snapshots/",
    "/api/budgets/",
    "/api/audit-gaps/",
    "/api/incidents/",
    "/api/ratings/",
    "/api/service-tokens/",
    "/api/drift-findings/",
    "/api/unexpected-actors/",
    "/api/platform-metrics/",
    *(f"/api/platform-metrics/{m.key}/rows/?period=month" for m in catalogue.METRICS),
    "/requests/?team=payments",
    "/requests/?team=search",
    "/requests/",
    "/approvals/",
    "/teams/",
    "/resources/",
    "/resources/orphans/",
    "/runbooks/",
    "/audit/",
    "/slos/",
    "/platform-metrics/",
    "/platform-metrics/budgets/",
    "/incidents/",
    "/accounts/service-tokens/",
    "/dashboards/executive/",
    "/dashboards/oncall/",
]

# Lists that show the caller's own team's objects: list → the kind of object.
SHOWS_OWN = {
    "/api/teams/": "team",
    "/api/requests/": "request",
    "/api/runs/": "run",
    "/api/resources/": "resource",
    "/api/runbook-runs/": "rb_run",
    "/api/orphan-findings/": "orphan",
    "/api/audit/events/": "event",
    "/api/slos/": "slo",
    "/api/incidents/": "incident",
    "/api/service-tokens/": "svc_token",
    "/api/drift-findings/": "drift",
    "/api/unexpected-actors/": "actor",
    "/dashboards/oncall/": "actor",
    "/accounts/service-tokens/": "svc_token",
    "/requests/": "request",
    "/resources/": "resource",
    "/runbooks/": "rb_run",
    "/audit/": "event",
    "/slos/": "slo",
    "/incidents/": "incident",
}

TEAM_OF_ROLE = {
    "outsider": "search",
    "member": "payments",
    "approver": "payments",
    "team_admin": "payments",
}


@pytest.mark.parametrize("role", sorted(TEAM_OF_ROLE))
def test_no_list_shows_another_teams_objects(world, clients, role):
    own = TEAM_OF_ROLE[role]
    other = "search" if own == "payments" else "payments"
    leaks = []
    for path in LISTS:
        response = clients[role].get(path)
        assert response.status_code == 200, (path, response.status_code)
        body = response.content.decode()
        leaks += [f"{path}: {marker}" for marker in world.markers[other] if marker in body]
    assert not leaks, f"{role} sees {other}'s objects:\n" + "\n".join(sorted(leaks))


@pytest.mark.parametrize("role", ["member", "outsider"])
def test_the_lists_do_show_the_callers_own_objects(world, clients, role):
    """So that an absent marker above means a hidden object, not a list that shows nothing."""
    own = world.own[TEAM_OF_ROLE[role]]
    missing = [
        f"{path}: {kind} {own[kind]}"
        for path, kind in SHOWS_OWN.items()
        if own[kind] not in clients[role].get(path).content.decode()
    ]
    assert not missing, missing


def test_a_format_suffix_hides_the_same_objects(world, clients):
    outsider = clients["outsider"]
    for name, target in (
        ("api:request-detail", "request"),
        ("api:resource-detail", "resource"),
        ("api:run-detail", "run"),
    ):
        path = reverse(name, kwargs={**world.targets[target], "format": "json"})
        assert outcome(call(outsider, "GET", path)[0]) == 404, path
