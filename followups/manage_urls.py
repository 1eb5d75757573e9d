"""The loops' set-up pages under /manage/ (the project's urls include them beside the people pages)."""

from __future__ import annotations

from django.urls import path

from followups.views import configuration, team_settings

urlpatterns = [
    path("teams/", team_settings.team_settings_list, name="team-settings-list"),
    path("teams/new/", team_settings.team_settings_create, name="team-settings-create"),
    path("teams/<slug:slug>/", team_settings.team_settings_edit, name="team-settings-edit"),
    *configuration.urlpatterns(),
]
