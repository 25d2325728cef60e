from django.urls import path
from rest_framework.routers import DefaultRouter

from catalog.api import provisioning, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("teams", views.TeamViewSet, basename="team")
router.register("templates", views.TemplateViewSet, basename="template")
router.register("requests", views.RequestViewSet, basename="request")
router.register("approvals", views.ApprovalViewSet, basename="approval")
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("policy-decisions", views.PolicyDecisionViewSet, basename="policy-decision")
router.register("runs", provisioning.RunViewSet, basename="run")
router.register("steps", provisioning.StepViewSet, basename="step")
router.register("resources", provisioning.ResourceViewSet, basename="resource")
router.register("runbooks", provisioning.RunbookViewSet, basename="runbook")
router.register("runbook-runs", provisioning.RunbookRunViewSet, basename="runbook-run")
router.register("orphan-findings", provisioning.OrphanFindingViewSet, basename="orphan-finding")

urlpatterns = [path("me/", views.MeView.as_view(), name="me"), *router.urls]
