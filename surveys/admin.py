from __future__ import annotations

from django.contrib import admin

from surveys.models import Account, Customer, ImportJob, Response, Survey


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("external_id", "name", "created_at")
    search_fields = ("external_id", "name")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("external_id", "name", "email", "account", "surveys_unsubscribed_at", "erased_at")
    list_filter = (("erased_at", admin.EmptyFieldListFilter), ("surveys_unsubscribed_at", admin.EmptyFieldListFilter))
    search_fields = ("external_id", "name", "email")
    raw_id_fields = ("account",)
    list_select_related = ("account",)
    readonly_fields = ("created_at", "updated_at", "erased_at")


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "kind", "active", "quarantine_days", "hot_threshold", "followup_passives")
    list_filter = ("kind", "active")
    search_fields = ("slug", "name")


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("id", "survey", "customer", "score", "category", "channel", "submitted_at", "ticket_ref")
    list_filter = ("category", "channel", "survey")
    search_fields = ("customer__external_id", "external_id", "ticket_ref")
    raw_id_fields = ("customer",)
    list_select_related = ("survey", "customer")
    date_hierarchy = "submitted_at"
    readonly_fields = ("category", "received_at")
    # Counting a million rows for the paginator is slow; responses are browsed, not counted.
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("file_name", "survey", "status", "rows", "created", "duplicates", "uploaded_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("survey", "uploaded_by")
    exclude = ("content",)
    readonly_fields = ("status", "rows", "created", "duplicates", "rejected", "error", "finished_at")
