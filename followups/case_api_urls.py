"""Case endpoints, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from followups import case_apis

urlpatterns = [
    path("cases/", case_apis.CaseListApi.as_view(), name="api-cases"),
    path("cases/<int:case_id>/", case_apis.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<int:case_id>/transition/", case_apis.CaseTransitionApi.as_view(), name="api-case-transition"),
    path("cases/<int:case_id>/assign/", case_apis.CaseAssignApi.as_view(), name="api-case-assign"),
    path("cases/<int:case_id>/notes/", case_apis.CaseNoteApi.as_view(), name="api-case-notes"),
    path("cases/<int:case_id>/contacts/", case_apis.CaseContactApi.as_view(), name="api-case-contacts"),
    path("cases/<int:case_id>/root-causes/", case_apis.CaseRootCausesApi.as_view(), name="api-case-root-causes"),
    path("cases/<int:case_id>/events/", case_apis.CaseEventsApi.as_view(), name="api-case-events"),
    path("resolution-codes/", case_apis.ResolutionCodeListApi.as_view(), name="api-resolution-codes"),
]
