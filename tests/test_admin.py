"""The admin as the managers' console: every page renders, and its actions go through the services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from followups.models import Case, CaseEvent, CasePause, Notification
from followups.services import team_create, team_update
from followups.services.opening import cases_open_for_responses
from tests.factories import make_response


@pytest.fixture
def world(survey, maya, alice):
    team_create(slug="desk", name="Desk", members=["alice"], lead="alice")
    response = make_response(2, comment="<script>alert(1)</script>")
    return cases_open_for_responses(response_ids=[response.pk])[0]


def test_every_admin_page_renders_for_a_manager(client, maya, world):
    client.force_login(maya)
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        first = model_admin.get_queryset(_request(maya)).first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            page = client.get(change)
            assert page.status_code == 200, change
            assert b"<script>alert(1)</script>" not in page.content


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request


def test_assigning_cases_from_the_admin_records_the_event(client, maya, world):
    team_update(team=world.team, members=["alice", "maya"])
    client.force_login(maya)
    url = reverse("admin:followups_case_changelist")
    client.post(url, {"action": "assign_to_me", "_selected_action": [world.pk]})
    assert Case.objects.get(pk=world.pk).owner == maya
    assert CaseEvent.objects.filter(case=world, kind="assigned", actor=maya).exists()


def test_a_manager_outside_the_team_is_told_they_cannot_own_its_case(client, maya, world):
    client.force_login(maya)
    url = reverse("admin:followups_case_changelist")
    response = client.post(url, {"action": "assign_to_me", "_selected_action": [world.pk]}, follow=True)
    assert f"Case {world.pk}: maya cannot own cases of Desk." in response.content.decode()
    assert Case.objects.get(pk=world.pk).owner.username == "alice"


def test_cases_cannot_be_added_or_edited_around_the_workflow(client, maya, world):
    client.force_login(maya)
    assert client.get(reverse("admin:followups_case_add")).status_code == 403
    change = reverse("admin:followups_case_change", args=[world.pk])
    client.post(change, {"status": "closed"})
    assert Case.objects.get(pk=world.pk).status == "new"


def test_failed_emails_can_be_sent_again(client, maya, world):
    Notification.objects.update(status=Notification.Status.FAILED, attempts=5)
    client.force_login(maya)
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert ids
    client.post(reverse("admin:followups_notification_changelist"), {"action": "retry_now", "_selected_action": ids})
    assert set(Notification.objects.values_list("status", "attempts")) == {(Notification.Status.PENDING, 0)}


@pytest.fixture
def superuser(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.com", "root-password-2026")


@pytest.mark.parametrize("model", [CaseEvent, CasePause])
def test_the_case_history_is_read_only_in_the_admin_even_for_superusers(client, superuser, world, model):
    row = CaseEvent.objects.filter(case=world).first() if model is CaseEvent else _pause(world)
    before = model.objects.values().get(pk=row.pk)
    name = f"admin:followups_{model._meta.model_name}"
    client.force_login(superuser)

    assert client.get(reverse(f"{name}_changelist")).status_code == 200
    assert client.get(reverse(f"{name}_change", args=[row.pk])).status_code == 200
    assert client.get(reverse(f"{name}_add")).status_code == 403
    assert client.post(reverse(f"{name}_add"), {"case": world.pk}).status_code == 403
    client.post(reverse(f"{name}_change", args=[row.pk]), {"case": world.pk, "kind": "note", "reason": "rewritten"})
    assert client.post(reverse(f"{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    client.post(
        reverse(f"{name}_changelist"), {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )

    assert model.objects.values().get(pk=row.pk) == before


def _pause(case: Case) -> CasePause:
    from django.utils import timezone

    return CasePause.objects.create(case=case, started_at=timezone.now())


def test_the_webhook_secret_is_not_in_the_admin(client, superuser, maya):
    from followups.services.webhooks import webhook_endpoint_create

    endpoint = webhook_endpoint_create(url="https://desk.example.com/hook", created_by=maya)
    client.force_login(superuser)

    page = client.get(reverse("admin:followups_webhookendpoint_change", args=[endpoint.pk]))

    assert page.status_code == 200
    assert endpoint.secret.encode() not in page.content


def test_the_admin_cannot_point_a_webhook_anywhere_the_service_would_refuse(client, superuser, maya):
    # Endpoints are made and re-pointed only through the webhook service, which checks the target.
    from followups.services.webhooks import webhook_endpoint_create

    endpoint = webhook_endpoint_create(url="https://desk.example.com/hook", created_by=maya)
    client.force_login(superuser)

    assert client.get(reverse("admin:followups_webhookendpoint_add")).status_code == 403
    saved = client.post(
        reverse("admin:followups_webhookendpoint_change", args=[endpoint.pk]),
        {"url": "http://127.0.0.1:5432/", "description": "", "events": "[]", "payload_format": "standard"},
    )
    assert saved.status_code == 302  # the change was saved: switched off, but the target stays
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.url == "https://desk.example.com/hook"


def test_the_taxonomy_and_its_merges_are_read_only_in_the_admin(client, superuser, taxonomy):
    # Root causes change through their services (two levels, slugs that stay, merges recorded).
    client.force_login(superuser)
    hardware = taxonomy["hardware"]

    assert client.get(reverse("admin:followups_rootcause_changelist")).status_code == 200
    assert client.get(reverse("admin:followups_rootcause_add")).status_code == 403
    client.post(reverse("admin:followups_rootcause_change", args=[hardware.pk]), {"slug": "kit", "parent": ""})
    assert (
        client.post(reverse("admin:followups_rootcause_delete", args=[hardware.pk]), {"post": "yes"}).status_code == 403
    )
    assert client.get(reverse("admin:followups_rootcausemerge_add")).status_code == 403

    hardware.refresh_from_db()
    assert (hardware.slug, hardware.parent.slug) == ("hardware", "technology")
