from __future__ import annotations

from django.contrib import admin

from followups.models import ResponseRootCause, RootCause, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "lead", "is_default")
    filter_horizontal = ("members",)
    raw_id_fields = ("lead",)
    list_select_related = ("lead",)


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "parent", "active")
    list_filter = ("active", "parent")
    search_fields = ("slug", "name", "description")
    list_select_related = ("parent",)


@admin.register(ResponseRootCause)
class ResponseRootCauseAdmin(admin.ModelAdmin):
    list_display = ("response", "root_cause", "coded_by", "coded_at")
    list_filter = ("root_cause",)
    raw_id_fields = ("response", "coded_by")
    list_select_related = ("root_cause", "coded_by")
