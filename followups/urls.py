"""Pages of the inner loop: the queues, the case page and its actions, the agent's settings."""

from __future__ import annotations

from django.urls import path

from followups import views

urlpatterns = [
    path("queue/", views.my_queue, name="queue"),
    path("queue/team/", views.team_queue, name="team-queue"),
    path("cases/<int:pk>/", views.case_page, name="case-detail"),
    path("cases/<int:pk>/status/", views.case_transition_view, name="case-transition"),
    path("cases/<int:pk>/notes/", views.case_note_view, name="case-note"),
    path("cases/<int:pk>/contacts/", views.case_contact_view, name="case-contact"),
    path("cases/<int:pk>/root-causes/", views.case_root_causes_view, name="case-root-causes"),
    path("cases/<int:pk>/owner/", views.case_assign_view, name="case-assign"),
    path("me/settings/", views.agent_settings, name="agent-settings"),
]
