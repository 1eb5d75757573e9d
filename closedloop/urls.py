from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from closedloop import apis, people, throttling, views

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    # The split view loads its start-up script from a URL, so the page needs no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api_docs.html", permission_classes=[]
        ),
        name="api-docs",
    ),
    path("users/", apis.UserListCreateApi.as_view(), name="api-users"),
    path("responses/", apis.ResponseListIngestApi.as_view(), name="api-responses"),
    path("responses/bulk/", apis.ResponseBulkIngestApi.as_view(), name="api-responses-bulk"),
    path("nps/", apis.NpsApi.as_view(), name="api-nps"),
    path("reports/nps-over-time/", apis.NpsOverTimeReportApi.as_view(), name="api-report-nps-over-time"),
    path("reports/segments/", apis.SegmentsReportApi.as_view(), name="api-report-segments"),
    path("reports/loop/", apis.LoopReportApi.as_view(), name="api-report-loop"),
    path("reports/responses.csv", apis.ResponseExportApi.as_view(), name="api-export-responses"),
    path("reports/cases.csv", apis.CaseExportApi.as_view(), name="api-export-cases"),
    path("", include("surveys.api_urls")),
    path("", include("followups.api_urls")),
]

manage: list[URLPattern | URLResolver] = [
    path("", people.manage_index, name="manage-index"),
    path("people/", people.person_list, name="person-list"),
    path("people/new/", people.person_create, name="person-create"),
    path("people/<int:pk>/", people.person_edit, name="person-edit"),
    path("people/<int:pk>/active/", people.person_active, name="person-active"),
    path("", include("followups.manage_urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("manage/", include(manage)),
    path("me/token/", people.my_token, name="my-token"),
    path("admin/", admin.site.urls),
    path("", include("surveys.urls")),
    path("", include("followups.urls")),
    path("password_reset/", throttling.ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("", include("django.contrib.auth.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("favicon.ico", views.favicon, name="favicon"),
]

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
