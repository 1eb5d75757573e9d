"""Improvements: create one against root causes, change it, move it through its lifecycle, set its priority.

Every status change is one ImprovementStatusChange row (who, when, from, to), written in the
transaction that changes the status; creation writes the first, from nothing to proposed. The
lifecycle is ``followups.improvement_status``'s table. Shipping is not a move here: it is also
the fan-out of the customer updates, and ``followups.services.updates.improvement_ship`` is the
only code that enters ``shipped``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Final

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from closedloop.lib.exceptions import ApplicationError, ConflictError
from closedloop.lib.updates import model_update
from followups.improvement_status import ImprovementStatus, allowed_next_statuses, can_move
from followups.models import CustomerUpdate, Improvement, ImprovementRootCause, ImprovementStatusChange, RootCause
from followups.permissions import may_own_improvement
from followups.services.coding import root_causes_hold
from surveys.models import Invitation
from surveys.services.invitations import invitation_create

S = ImprovementStatus
LOOKBACK_DAYS_MAX = 3650
CHECKIN_DAYS_MAX = 365
SHIP_ENDPOINT = "POST /api/v1/improvements/{id}/ship/"


class _Keep:
    """The default of an argument that may also be set to None: leave the field as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


def _owner(owner: User | None) -> User | None:
    if owner is not None and not may_own_improvement(owner):
        raise ValidationError({"owner": [f"{owner.username} is not an active agent or manager."]})
    return owner


def _lookback(days: int) -> int:
    if not 1 <= days <= LOOKBACK_DAYS_MAX:
        raise ValidationError({"lookback_days": [f"Between 1 and {LOOKBACK_DAYS_MAX} days."]})
    return days


def _root_causes(root_causes: Iterable[RootCause], *, keeping: Iterable[int] = ()) -> list[RootCause]:
    """The root causes to link, each once: active ones (under an active category), or ones linked already.

    Held against a merge until commit (``root_causes_hold``), so a link is never written to a
    root cause a merge is retiring meanwhile.
    """
    chosen = list({rc.pk: rc for rc in root_causes}.values())
    active = root_causes_hold(chosen)
    kept = set(keeping)
    loaded = RootCause.objects.select_related("parent").in_bulk([rc.pk for rc in chosen])
    refused = [rc.slug for rc in chosen if rc.pk not in kept and not _usable(loaded[rc.pk], active)]
    if refused:
        raise ValidationError({"root_causes": [f"Inactive root cause: {', '.join(sorted(refused))}."]})
    return chosen


def _usable(root_cause: RootCause, active: set[int]) -> bool:
    parent = root_cause.parent
    return root_cause.pk in active and (parent is None or parent.active)


def _link(improvement: Improvement, root_causes: list[RootCause]) -> None:
    """Make ``root_causes`` the improvement's links: add the new ones, drop the others."""
    wanted = {rc.pk for rc in root_causes}
    improvement.root_cause_links.exclude(root_cause_id__in=wanted).delete()
    have = set(improvement.root_cause_links.values_list("root_cause_id", flat=True))
    ImprovementRootCause.objects.bulk_create(
        [ImprovementRootCause(improvement=improvement, root_cause_id=pk) for pk in wanted - have]
    )


def _status_change(improvement: Improvement, *, from_status: str, actor: User | None, at: datetime) -> None:
    change = ImprovementStatusChange(
        improvement=improvement, from_status=from_status, to_status=improvement.status, actor=actor, changed_at=at
    )
    change.full_clean()
    change.save()


@transaction.atomic
def improvement_create(
    *,
    title: str,
    actor: User | None,
    root_causes: Iterable[RootCause] = (),
    description: str = "",
    owner: User | None = None,
    target_date: date | None = None,
    customer_message: str = "",
    lookback_days: int = 365,
    now: datetime | None = None,
) -> Improvement:
    """A proposed improvement against ``root_causes``, with its first status-change row (from nothing)."""
    now = now or timezone.now()
    improvement = Improvement(
        title=title.strip(),
        description=description,
        owner=_owner(owner),
        target_date=target_date,
        customer_message=customer_message,
        lookback_days=_lookback(lookback_days),
        created_by=actor,
        created_at=now,
        updated_at=now,
        status=S.PROPOSED,
    )
    improvement.full_clean()
    linked = _root_causes(root_causes)
    improvement.save()
    _link(improvement, linked)
    _status_change(improvement, from_status="", actor=actor, at=now)
    return improvement


@transaction.atomic
def improvement_update(
    *,
    improvement: Improvement,
    title: str | None = None,
    description: str | None = None,
    owner: User | _Keep | None = KEEP,
    root_causes: Iterable[RootCause] | None = None,
    target_date: date | _Keep | None = KEEP,
    customer_message: str | None = None,
    lookback_days: int | None = None,
    now: datetime | None = None,
) -> Improvement:
    """Change what an improvement says and whom it is for; None (KEEP for owner and target date) leaves a field.

    A shipped improvement's root causes, message and lookback are what its updates were sent
    for: they no longer change (ConflictError); its title, description and owner still may.
    """
    improvement = Improvement.objects.select_for_update().get(pk=improvement.pk)
    changes: dict[str, Any] = {}
    for name, value in (("title", title), ("description", description), ("customer_message", customer_message)):
        if value is not None:
            changes[name] = value.strip() if name == "title" else value
    if lookback_days is not None:
        changes["lookback_days"] = _lookback(lookback_days)
    if not isinstance(owner, _Keep):
        changes["owner"] = _owner(owner)
    if not isinstance(target_date, _Keep):
        changes["target_date"] = target_date
    linked = None
    if root_causes is not None:
        have = set(improvement.root_cause_links.values_list("root_cause_id", flat=True))
        linked = _root_causes(root_causes, keeping=have)
        if {rc.pk for rc in linked} == have:
            linked = None
    if improvement.status == S.SHIPPED:
        frozen: list[str] = sorted(
            name
            for name in ("customer_message", "lookback_days")
            if name in changes and changes[name] != getattr(improvement, name)
        )
        if linked is not None:
            frozen.insert(0, "root_causes")
        if frozen:
            raise ConflictError(f"The improvement has shipped; its {', '.join(frozen)} can no longer change.")
    saved = model_update(improvement, changes)
    if linked is not None:
        _link(improvement, linked)
    if saved or linked is not None:
        model_update(improvement, {"updated_at": now or timezone.now()})
    return improvement


@transaction.atomic
def improvement_move(
    *, improvement: Improvement, to_status: str, actor: User | None, now: datetime | None = None
) -> Improvement:
    """Move an improvement to ``to_status`` as the lifecycle allows, with one status-change row.

    The row is locked first, so of two moves from one status only the first counts; the second
    sees the new status and is refused, or allowed from there. ``shipped`` is refused with the
    endpoint that ships: shipping tells customers, which a status edit must not do by the way.
    """
    now = now or timezone.now()
    if to_status not in S.values:
        raise ApplicationError("Unknown status.", errors={"status": [f"Must be one of: {', '.join(S.values)}."]})
    improvement = Improvement.objects.select_for_update().get(pk=improvement.pk)
    from_status = improvement.status
    if from_status == to_status:
        return improvement
    if to_status == S.SHIPPED:
        raise ApplicationError(
            "Ship it instead.",
            errors={
                "status": [
                    "An improvement is shipped by shipping it, which also tells its customers: "
                    f"{SHIP_ENDPOINT.format(id=improvement.pk)}."
                ]
            },
        )
    if not can_move(from_status, to_status):
        allowed = ", ".join(allowed_next_statuses(from_status)) or "none"
        raise ConflictError(f"An improvement cannot go from {from_status} to {to_status} (allowed: {allowed}).")
    model_update(improvement, {"status": to_status, "updated_at": now})
    _status_change(improvement, from_status=from_status, actor=actor, at=now)
    return improvement


@transaction.atomic
def improvement_priority_override(
    *, improvement: Improvement, score: float | None, reason: str = "", now: datetime | None = None
) -> Improvement:
    """Set a manager's own priority score with the reason for it, or clear it (``score`` None).

    The reason is required with a score: the board's sentence gives it to everyone who reads it.
    """
    improvement = Improvement.objects.select_for_update().get(pk=improvement.pk)
    reason = reason.strip()
    if score is None:
        changes: dict[str, Any] = {"priority_override": None, "priority_override_reason": ""}
    elif not reason:
        raise ValidationError({"reason": ["Say why this improvement gets a score of its own."]})
    elif score != score or score in (float("inf"), float("-inf")):
        raise ValidationError({"score": ["A finite number."]})
    else:
        changes = {"priority_override": score, "priority_override_reason": reason}
    if model_update(improvement, changes):
        model_update(improvement, {"updated_at": now or timezone.now()})
    return improvement


@transaction.atomic
def improvement_checkin_schedule(*, improvement: Improvement, days: int | None, actor: User | None) -> Improvement:
    """Ask the customers the improvement's update reached again ``days`` after shipping (None: never).

    Once the check-ins went out the setting stays as it was: they are not sent twice.
    """
    if improvement.checkins_sent_at is not None:
        raise ConflictError("The check-ins were already sent.")
    improvement.checkin_days = days
    improvement.updated_at = timezone.now()
    improvement.full_clean()
    improvement.save(update_fields=["checkin_days", "updated_at"])
    return improvement


def improvement_checkins_send(*, now: datetime | None = None) -> int:
    """Invite, on the survey they last answered, the notified customers of every improvement whose
    check-in is due; fatigue rules apply (a suppressed invitation records why). Returns how many
    invitations were scheduled. Each improvement is claimed first, so a rerun sends nothing twice.
    """
    now = now or timezone.now()
    waiting = Improvement.objects.filter(
        status=ImprovementStatus.SHIPPED, checkin_days__isnull=False, checkins_sent_at__isnull=True
    )
    # Improvements are few, and SQLite cannot multiply a duration by a column: compared here.
    due = [
        pk
        for pk, shipped_at, days in waiting.values_list("pk", "shipped_at", "checkin_days")
        if days is not None and shipped_at is not None and shipped_at <= now - timedelta(days=days)
    ]
    scheduled = 0
    for improvement_id in due:
        with transaction.atomic():
            claimed = waiting.filter(pk=improvement_id).select_for_update(skip_locked=True).first()
            if claimed is None:
                continue
            Improvement.objects.filter(pk=claimed.pk).update(checkins_sent_at=now)
            updates = (
                CustomerUpdate.objects.filter(improvement=claimed, status=CustomerUpdate.Status.SENT)
                .select_related("customer", "response__survey")
                .order_by("pk")
            )
            for update in updates.iterator(chunk_size=500):
                if update.response is None:
                    continue
                made = invitation_create(
                    survey=update.response.survey, customer={"external_id": update.customer.external_id}, now=now
                )
                scheduled += made.invitation.status == Invitation.Status.SCHEDULED
    return scheduled
