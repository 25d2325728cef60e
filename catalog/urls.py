from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("catalog/", views.template_list, name="template-list"),
    path("catalog/<slug:slug>/", views.template_detail, name="template-detail"),
    path("catalog/<slug:slug>/request/", views.request_create, name="request-create"),
    path(
        "catalog/<slug:slug>/versions/<str:version>/deprecate/",
        views.template_version_deprecate,
        name="template-version-deprecate",
    ),
    path(
        "policies/<slug:slug>/restore/<int:number>/",
        views.policy_restore,
        name="policy-restore",
    ),
    path("catalog/<slug:slug>/request/freeze/", views.request_freeze, name="request-freeze"),
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
]
