from django.urls import path
from rest_framework.routers import DefaultRouter

from catalog.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("teams", views.TeamViewSet, basename="team")
router.register("templates", views.TemplateViewSet, basename="template")
router.register("requests", views.RequestViewSet, basename="request")
router.register("approvals", views.ApprovalViewSet, basename="approval")
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("policy-decisions", views.PolicyDecisionViewSet, basename="policy-decision")

urlpatterns = [path("me/", views.MeView.as_view(), name="me"), *router.urls]
