from django.urls import path

from provisioning.views import resources, runbooks

app_name = "provisioning"

urlpatterns = [
    path("runs/<uuid:uuid>/cancel/", resources.run_cancel, name="run-cancel"),
    path("resources/", resources.resource_list, name="resource-list"),
    path("resources/orphans/", resources.orphan_report, name="orphan-report"),
    path("resources/drift/<uuid:uuid>/accept/", resources.drift_accept, name="drift-accept"),
    path("resources/drift/<uuid:uuid>/reapply/", resources.drift_reapply, name="drift-reapply"),
    path("resources/<uuid:uuid>/", resources.resource_detail, name="resource-detail"),
    path("resources/<uuid:uuid>/extend/", resources.resource_extend, name="resource-extend"),
    path("resources/<uuid:uuid>/delete/", resources.resource_delete, name="resource-delete"),
    path("resources/<uuid:uuid>/secret/", resources.resource_secret, name="resource-secret"),
    path("runbooks/", runbooks.runbook_list, name="runbook-list"),
    path("runbooks/runs/<uuid:uuid>/", runbooks.runbook_run_detail, name="runbook-run-detail"),
    path("runbooks/runs/<uuid:uuid>/live/", runbooks.runbook_run_live, name="runbook-run-live"),
    path(
        "runbooks/runs/<uuid:uuid>/approve/",
        runbooks.runbook_run_approve,
        name="runbook-run-approve",
    ),
    path(
        "runbooks/runs/<uuid:uuid>/reject/", runbooks.runbook_run_reject, name="runbook-run-reject"
    ),
    path("runbooks/<slug:slug>/", runbooks.runbook_detail, name="runbook-detail"),
    path("runbooks/<slug:slug>/run/", runbooks.runbook_run, name="runbook-run"),
]
