from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from closedloop import apis, throttling, views

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
    path("", include("surveys.api_urls")),
    path("", include("followups.api_urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
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
