"""Pages of the loops: the queues, the customer and account pages, the case page and its actions, the
agent's settings, the root-cause taxonomy and its suggestions, the review of uncoded comments, themes,
improvements and shipping them, the customer's updates, webhooks."""

from __future__ import annotations

from django.urls import path

from followups.views import (
    account_reports,
    cases,
    customer_updates,
    customers,
    improvements,
    profiles,
    queues,
    review,
    shipping,
    taxonomy,
    themes,
    webhooks,
)

urlpatterns = [
    path("queue/", queues.my_queue, name="queue"),
    path("queue/done/", queues.my_done_cases, name="queue-done"),
    path("queue/team/", queues.team_queue, name="team-queue"),
    path("queue/team/assign/", queues.team_queue_bulk, name="team-queue-bulk"),
    path("customers/<path:external_id>/", customers.customer_page, name="customer-detail"),
    path("accounts/<path:external_id>/", customers.account_page, name="account-detail"),
    path("cases/<int:pk>/", cases.case_page, name="case-detail"),
    path("cases/<int:pk>/status/", cases.case_transition_view, name="case-transition"),
    path("cases/<int:pk>/notes/", cases.case_note_view, name="case-note"),
    path("cases/<int:pk>/contacts/", cases.case_contact_view, name="case-contact"),
    path("cases/<int:pk>/messages/", cases.case_message_view, name="case-message"),
    path("cases/<int:pk>/suggestions/", cases.case_suggestion_accept_view, name="case-suggestion-accept"),
    path("cases/<int:pk>/root-causes/", cases.case_root_causes_view, name="case-root-causes"),
    path("cases/<int:pk>/owner/", cases.case_assign_view, name="case-assign"),
    path("reports/accounts/", account_reports.account_report_list, name="account-report-list"),
    path("reports/accounts/<str:account>/", account_reports.account_report_page, name="account-report"),
    path("me/settings/", profiles.agent_settings, name="agent-settings"),
    path("me/praise/", profiles.my_praise, name="my-praise"),
    # From the link in the managers' weekly digest (no login: the signed token is the proof).
    path("me/digest/stop/<str:token>/", profiles.manager_digest_stop_page, name="manager-digest-stop"),
    path("taxonomy/", taxonomy.taxonomy_page, name="taxonomy"),
    path("taxonomy/<slug:slug>/", taxonomy.root_cause_edit, name="root-cause-edit"),
    path("taxonomy/<slug:slug>/active/", taxonomy.root_cause_active, name="root-cause-active"),
    path("taxonomy/<slug:slug>/merge/", taxonomy.root_cause_merge_view, name="root-cause-merge"),
    path("review/", review.review_page, name="review"),
    path("review/<int:pk>/decide/", review.review_decide, name="review-decide"),
    path("review/<int:pk>/code/", review.review_code, name="review-code"),
    path("review/<int:pk>/skip/", review.review_skip, name="review-skip"),
    path("suggestions/train/", taxonomy.suggestions_train_view, name="suggestions-train"),
    path("themes/", themes.themes_page, name="themes"),
    path("themes/<slug:slug>/", themes.theme_comments_page, name="theme-comments"),
    path("improvements/", improvements.improvement_board_page, name="improvement_board"),
    path("improvements/new/", improvements.improvement_create_page, name="improvement_create"),
    path("improvements/<int:pk>/", improvements.improvement_detail_page, name="improvement_detail"),
    path("improvements/<int:pk>/status/", improvements.improvement_move_view, name="improvement_move"),
    path("improvements/<int:pk>/priority/", improvements.improvement_priority_view, name="improvement_priority"),
    path("improvements/<int:pk>/checkin/", improvements.improvement_checkin_view, name="improvement_checkin"),
    path("improvements/<int:pk>/ship/", shipping.improvement_ship_page, name="improvement_ship"),
    path("improvements/<int:pk>/ship/email/", shipping.improvement_ship_email, name="improvement_ship_email"),
    # The customer's own page, from the signed link in their update emails (no login).
    path("c/updates/<str:token>/", customer_updates.customer_updates_page, name="customer-updates"),
    path("webhooks/", webhooks.webhook_list, name="webhook-list"),
    path("webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook-detail"),
    path("webhooks/<int:pk>/active/", webhooks.webhook_active, name="webhook-active"),
    path("webhooks/<int:pk>/delete/", webhooks.webhook_delete, name="webhook-delete"),
    path("webhooks/<int:pk>/rotate-secret/", webhooks.webhook_secret_rotate, name="webhook-rotate-secret"),
    path("webhooks/deliveries/<int:pk>/replay/", webhooks.webhook_delivery_replay_view, name="webhook-delivery-replay"),
]
