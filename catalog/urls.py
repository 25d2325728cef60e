from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("catalog/", views.template_list, name="template-list"),
    path("catalog/<slug:slug>/", views.template_detail, name="template-detail"),
    path("catalog/<slug:slug>/request/", views.request_create, name="request-create"),
    path("requests/", views.request_list, name="request-list"),
    path("requests/<uuid:uuid>/", views.request_detail, name="request-detail"),
    path("requests/<uuid:uuid>/timeline/", views.request_timeline, name="request-timeline"),
    path("requests/<uuid:uuid>/approve/", views.request_approve, name="request-approve"),
    path("requests/<uuid:uuid>/reject/", views.request_reject, name="request-reject"),
    path("requests/<uuid:uuid>/cancel/", views.request_cancel, name="request-cancel"),
    path(
        "requests/<uuid:uuid>/break-glass/", views.request_break_glass, name="request-break-glass"
    ),
    path("approvals/", views.approval_inbox, name="approval-inbox"),
    path("teams/", views.team_list, name="team-list"),
    path("teams/<slug:slug>/", views.team_usage, name="team-usage"),
    path("runs/<uuid:uuid>/cancel/", views.run_cancel, name="run-cancel"),
    path("resources/", views.resource_list, name="resource-list"),
    path("resources/orphans/", views.orphan_report, name="orphan-report"),
    path("resources/<uuid:uuid>/", views.resource_detail, name="resource-detail"),
    path("resources/<uuid:uuid>/extend/", views.resource_extend, name="resource-extend"),
    path("resources/<uuid:uuid>/delete/", views.resource_delete, name="resource-delete"),
    path("resources/<uuid:uuid>/secret/", views.resource_secret, name="resource-secret"),
    path("runbooks/", views.runbook_list, name="runbook-list"),
    path("runbooks/runs/<uuid:uuid>/", views.runbook_run_detail, name="runbook-run-detail"),
    path("runbooks/runs/<uuid:uuid>/live/", views.runbook_run_live, name="runbook-run-live"),
    path(
        "runbooks/runs/<uuid:uuid>/approve/",
        views.runbook_run_approve,
        name="runbook-run-approve",
    ),
    path("runbooks/runs/<uuid:uuid>/reject/", views.runbook_run_reject, name="runbook-run-reject"),
    path("runbooks/<slug:slug>/", views.runbook_detail, name="runbook-detail"),
    path("runbooks/<slug:slug>/run/", views.runbook_run, name="runbook-run"),
]
