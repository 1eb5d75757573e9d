"""The operator console for the loops. Actions call the same services as the UI and the API,
so nothing here can bypass the workflow table, the deadlines or the outbox."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from closedloop.lib.exceptions import ApplicationError
from followups.models import (
    AgentProfile,
    Case,
    CaseEvent,
    CasePause,
    CustomerPrivacyRecord,
    Notification,
    ResolutionCode,
    ResponseRootCause,
    RootCause,
    RootCauseMerge,
    RoutingRule,
    SlaPolicy,
    SuggestionDecision,
    SuggestionModel,
    Team,
    WebhookDelivery,
    WebhookEndpoint,
)
from followups.services.cases import case_assign
from followups.services.delivery import notifications_retry
from followups.services.webhooks import webhook_delivery_replay


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "lead", "is_default", "time_zone", "holiday_country")
    filter_horizontal = ("members",)
    raw_id_fields = ("lead",)
    list_select_related = ("lead",)
    search_fields = ("slug", "name")


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "is_away", "assignment_emails", "digest_emails")
    list_filter = ("is_away",)
    list_editable = ("is_away",)
    raw_id_fields = ("user",)
    list_select_related = ("user",)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("position", "name", "team", "owner", "survey", "attribute_name", "attribute_value", "active")
    list_display_links = ("name",)
    list_editable = ("position", "active")
    list_filter = ("active", "team")
    raw_id_fields = ("owner", "account")
    list_select_related = ("team", "owner", "survey")


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "priority",
        "survey",
        "attribute_name",
        "attribute_value",
        "first_contact_hours",
        "resolution_hours",
        "reassign_after_hours",
        "active",
    )
    list_filter = ("priority", "active")
    list_select_related = ("survey",)


@admin.register(ResolutionCode)
class ResolutionCodeAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "position", "active")
    list_editable = ("position", "active")


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    """Read here; changed on the root-cause page or through the API, whose services keep the two
    levels, the slugs and the merges right."""

    list_display = ("slug", "name", "parent", "active", "merged_into")
    list_filter = ("active", "parent")
    search_fields = ("slug", "name", "description")
    list_select_related = ("parent", "merged_into")
    readonly_fields = [field.name for field in RootCause._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ResponseRootCause)
class ResponseRootCauseAdmin(admin.ModelAdmin):
    list_display = ("response", "root_cause", "source", "coded_by", "coded_at")
    list_filter = ("source", "root_cause")
    raw_id_fields = ("response", "coded_by")
    list_select_related = ("root_cause", "coded_by")


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases are opened by ingestion and worked through the services: their workflow fields are read-only."""

    list_display = ("id", "status", "priority", "team", "owner", "next_due", "escalation_level", "created_at")
    list_filter = ("status", "priority", "team", "escalation_level")
    search_fields = ("response__customer__external_id", "response__ticket_ref", "owner__username")
    raw_id_fields = ("response", "owner")
    list_select_related = ("team", "owner")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["assign_to_me"]
    readonly_fields = [field.name for field in Case._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Assign the selected cases to me")
    def assign_to_me(self, request, queryset) -> None:
        for case in queryset:
            try:
                case_assign(case=case, owner=request.user, actor=request.user)
            except (ApplicationError, PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"Case {case.pk}: {exc}", messages.ERROR)


class HistoryAdmin(admin.ModelAdmin):
    """A case's history is its audit trail: written by the services only, here to read, for everyone.

    Refusing the permissions (rather than hiding buttons) also refuses superusers and a hand-made POST.
    """

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CaseEvent)
class CaseEventAdmin(HistoryAdmin):
    list_display = ("case", "at", "kind", "actor", "from_status", "to_status")
    list_filter = ("kind",)
    raw_id_fields = ("case", "actor")
    list_select_related = ("actor",)
    show_full_result_count = False


@admin.register(RootCauseMerge)
class RootCauseMergeAdmin(HistoryAdmin):
    list_display = ("merged_at", "root_cause", "into", "actor", "codes_moved", "duplicates_collapsed", "causes_moved")
    list_select_related = ("root_cause", "into", "actor")


@admin.register(SuggestionDecision)
class SuggestionDecisionAdmin(HistoryAdmin):
    list_display = ("decided_at", "response", "root_cause", "source", "accepted", "model_version", "decided_by")
    list_filter = ("accepted", "source")
    raw_id_fields = ("response",)
    list_select_related = ("root_cause", "decided_by")
    show_full_result_count = False


@admin.register(SuggestionModel)
class SuggestionModelAdmin(HistoryAdmin):
    list_display = ("version", "trained_at", "training_size")
    exclude = ("pipeline",)  # the pickled classifier: bytes, not for reading


@admin.register(CasePause)
class CasePauseAdmin(HistoryAdmin):
    list_display = ("case", "started_at", "ended_at", "business_time")
    raw_id_fields = ("case",)
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "email", "status", "attempts", "created_at", "sent_at", "last_error", "suppressed_reason")
    list_filter = ("status", "kind")
    search_fields = ("email", "subject")
    raw_id_fields = ("recipient", "case")
    readonly_fields = [field.name for field in Notification._meta.fields]
    actions = ["retry_now"]

    @admin.action(description="Send the selected emails again now")
    def retry_now(self, request, queryset) -> None:
        count = notifications_retry(notifications=queryset)
        self.message_user(request, f"{count} emails queued again.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "payload_format", "active", "created_at")
    list_filter = ("active", "payload_format")
    raw_id_fields = ("created_by",)
    exclude = ("secret",)  # shown once, when made; rotated from the webhook page
    # Endpoints are made and re-pointed through the webhook service (page or API), which refuses
    # internal targets and shows the new secret once; the admin may switch them on and off.
    readonly_fields = ("url",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_type", "endpoint", "status", "attempts", "last_status_code", "created_at", "delivered_at")
    list_filter = ("status", "event_type")
    raw_id_fields = ("endpoint",)
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay the selected deliveries")
    def replay(self, request, queryset) -> None:
        for delivery in queryset:
            try:
                webhook_delivery_replay(delivery=delivery)
            except ApplicationError as exc:
                self.message_user(request, f"Delivery {delivery.pk}: {exc}", messages.ERROR)


@admin.register(CustomerPrivacyRecord)
class CustomerPrivacyRecordAdmin(HistoryAdmin):
    list_display = ("at", "kind", "customer", "actor")
    list_filter = ("kind",)
    raw_id_fields = ("customer", "actor")
    list_select_related = ("customer", "actor")
