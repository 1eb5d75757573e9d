"""Working a case: assignment, status changes, notes, contacts and root causes (of any response too).

Every function locks the case row and checks the actor's rights, the workflow table and its
input before it changes anything; it then saves only the fields it changed (``snapshot`` and
``save_changes``) and writes the history in the same transaction, and queues emails and webhook
events that go out only after commit. ``case_transition`` is the only code that changes a case's
status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from closedloop.lib.exceptions import ApplicationError, ConflictError
from closedloop.lib.roles import is_manager
from closedloop.lib.updates import save_changes, snapshot
from followups.business_time import add_business_time, business_time_between
from followups.models import Case, CaseEvent, CasePause, ResolutionCode, ResponseRootCause
from followups.models.rules import Priority
from followups.notifications import assignment_email, wants_assignment_emails
from followups.payloads import case_payload
from followups.permissions import can_assign_case, can_prioritize_case, can_work_case, may_own_case
from followups.selectors import root_cause_choices
from followups.services.coding import root_causes_hold
from followups.services.outbox import events_record, notifications_queue, webhook_events_queue
from followups.services.recovery import recovery_check_schedule
from followups.sla import AT_RISK_SHARE, team_calendar
from followups.workflow import OPEN_STATUSES, CaseStatus, can_transition, needs_close_reason, pauses_resolution_clock
from surveys.models import Response

S = CaseStatus

CONTACT_CHANNELS = ("phone", "email", "sms", "chat", "in_person", "video")
# Outcomes that count as having reached out for the first-contact deadline.
CONTACT_OUTCOMES = {"reached": True, "left_message": True, "email_sent": True, "no_answer": False}
TEXT_MAX = 5000


def _lock(case: Case, actor: User | None, *, check=can_work_case) -> Case:
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("team", "owner", "response__survey", "response__customer")
        .get(pk=case.pk)
    )
    if actor is not None and not check(actor, locked):
        raise PermissionDenied("You may not change this case.")
    return locked


def _event(case: Case, actor, kind: str, now: datetime, **fields) -> CaseEvent:
    return CaseEvent(case=case, actor=actor, kind=kind, at=now, **fields)


@transaction.atomic
def case_transition(
    *,
    case: Case,
    to_status: str,
    actor: User | None,
    note: str = "",
    reason: str = "",
    resolution_code: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Move a case to ``to_status`` as the workflow table allows (ConflictError otherwise).

    ``resolution_code`` counts only when the case resolves: the timeline records it then, and a
    form left filled in on another move must not change it.
    """
    now = now or timezone.now()
    case = _lock(case, actor)
    before = snapshot(case)
    from_status = case.status
    if to_status not in S.values:
        raise ApplicationError("Unknown status.", errors={"to": [f"Must be one of: {', '.join(S.values)}."]})
    if not can_transition(from_status, to_status):
        raise ConflictError(f"A case cannot go from {from_status} to {to_status}.")
    if needs_close_reason(from_status, to_status) and not reason.strip():
        raise ApplicationError("Reason required.", errors={"reason": ["Say why a case closes without resolution."]})
    events: list[CaseEvent] = []
    if to_status == S.RESOLVED:
        if resolution_code:
            case.resolution_code = _resolution_code(resolution_code)
        _check_coding(case)
    if pauses_resolution_clock(from_status):
        _end_pause(case, now)
    _apply(case, to_status, now, reason, events, actor)
    details = {key: value for key, value in (("note", note[:TEXT_MAX]), ("reason", reason[:500])) if value}
    if case.resolution_code and to_status == S.RESOLVED:
        details["resolution_code"] = case.resolution_code.slug
    events.append(
        _event(
            case,
            actor,
            CaseEvent.Kind.STATUS_CHANGED,
            now,
            from_status=from_status,
            to_status=to_status,
            details=details,
        )
    )
    case.status = to_status
    save_changes(case, since=before)
    events_record(events)
    hooks = [("case.status_changed", {**case_payload(case), "from_status": from_status})]
    if to_status == S.RESOLVED:
        recovery_check_schedule(case=case, now=now)
    if to_status == S.CLOSED:
        hooks.append(("case.closed", case_payload(case)))
    webhook_events_queue(hooks, now=now)
    return case


def _apply(case: Case, to_status: str, now: datetime, reason: str, events: list, actor) -> None:
    """Set the timestamps and deadlines that entering ``to_status`` implies."""
    calendar = team_calendar(case.team)
    if to_status == S.CONTACTED and case.first_contacted_at is None:
        _first_contact(case, now, events, actor)
    if to_status in (S.IN_PROGRESS, S.CONTACTED):
        case.resolved_at = case.closed_at = None
        case.close_reason = ""
        _resume_resolution_clock(case, calendar)
    elif to_status == S.WAITING_ON_CUSTOMER:
        case.paused_at, case.next_due, case.at_risk_from = now, None, None
        CasePause.objects.create(case=case, started_at=now)
    elif to_status == S.RESOLVED:
        _breach_if_late(case, "resolution", case.resolution_due, now, events, actor)
        case.resolved_at, case.next_due, case.at_risk_from = now, None, None
    elif to_status == S.CLOSED:
        case.closed_at, case.next_due, case.at_risk_from = now, None, None
        case.close_reason = reason[:500]


def _first_contact(case: Case, now: datetime, events: list, actor) -> None:
    case.first_contacted_at = now
    _breach_if_late(case, "first_contact", case.first_contact_due, now, events, actor)


def _resume_resolution_clock(case: Case, calendar) -> None:
    if case.first_contacted_at is None:
        return  # still counting down to first contact
    start_to_due = business_time_between(case.created_at, case.resolution_due, calendar)
    case.next_due = case.resolution_due
    case.at_risk_from = add_business_time(case.created_at, start_to_due * (1 - AT_RISK_SHARE), calendar)
    case.at_risk_notified_at = None


def _end_pause(case: Case, now: datetime) -> None:
    """Push the resolution deadline out by the working time spent waiting on the customer."""
    calendar = team_calendar(case.team)
    paused = business_time_between(case.paused_at or now, now, calendar)  # always set while waiting
    if paused:
        # Adding zero would move a deadline that sits exactly at closing time to the next opening.
        case.resolution_due = add_business_time(case.resolution_due, paused, calendar)
    CasePause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=now, business_time=paused)
    case.paused_at = None


def _breach_if_late(case: Case, deadline: str, due: datetime, now: datetime, events: list, actor) -> None:
    # The sweep records breaches of untouched cases; a deadline missed by an action taken late
    # is recorded here, so SLA reporting never misses one that fell between two sweeps.
    field = f"{deadline}_breached_at"
    if now > due and getattr(case, field) is None:
        setattr(case, field, now)
        events.append(_event(case, actor, CaseEvent.Kind.BREACHED, now, details={"deadline": deadline}))


def _resolution_code(slug: str) -> ResolutionCode:
    code = ResolutionCode.objects.filter(slug=slug, active=True).first()
    if code is None:
        raise ApplicationError("Unknown resolution code.", errors={"resolution_code": [f"No active code {slug!r}."]})
    return code


def _check_coding(case: Case) -> None:
    if not case.response.survey.require_coding:
        return
    errors = {}
    if case.resolution_code_id is None:
        errors["resolution_code"] = ["This survey requires a resolution code before a case is resolved."]
    if not ResponseRootCause.objects.filter(response_id=case.response_id).exists():
        errors["root_causes"] = ["This survey requires at least one root cause before a case is resolved."]
    if errors:
        raise ApplicationError("Coding required.", errors=errors)


@transaction.atomic
def case_assign(*, case: Case, owner: User | None, actor: User | None, now: datetime | None = None) -> Case:
    """Give a case to ``owner`` (None: unassign), who must be one of ``case_owners`` of its team.

    Giving the case to whoever has it already changes nothing.
    """
    now = now or timezone.now()
    case = _lock(case, actor, check=lambda user, c: can_assign_case(user, c, owner.pk if owner else None))
    if case.owner_id == (owner.pk if owner else None):
        return case
    if owner is not None and not may_own_case(owner, case):
        message = f"{owner.get_username()} cannot own cases of {case.team.name}."
        raise ApplicationError(message, errors={"owner": [message]})
    previous = case.owner.get_username() if case.owner else None
    before = snapshot(case)
    case.owner, case.assigned_at = owner, now
    save_changes(case, since=before)
    details = {"from": previous, "to": owner.get_username() if owner else None}
    events_record([_event(case, actor, CaseEvent.Kind.ASSIGNED, now, details=details)])
    if owner is not None and owner != actor and owner.email and wants_assignment_emails(owner):
        notifications_queue([assignment_email(case, owner, now)])
    webhook_events_queue([("case.assigned", case_payload(case))], now=now)
    return case


@transaction.atomic
def case_prioritize(*, case: Case, priority: str, actor: User | None, now: datetime | None = None) -> Case:
    """Make an open case ``hot`` or ``normal``; the case's lead or a manager decides.

    Setting the priority it has already changes nothing.
    """
    now = now or timezone.now()
    case = _lock(case, actor, check=can_prioritize_case)
    if priority not in Priority.values:
        raise ApplicationError("Invalid priority.", errors={"priority": [f"One of {', '.join(Priority.values)}."]})
    if case.status not in OPEN_STATUSES:
        message = f"A {case.get_status_display().lower()} case keeps its priority; reopen it first."
        raise ApplicationError(message, errors={"priority": [message]})
    if case.priority == priority:
        return case
    before = snapshot(case)
    previous, case.priority = case.priority, priority
    save_changes(case, since=before)
    details = {"from": previous, "to": priority}
    events_record([_event(case, actor, CaseEvent.Kind.PRIORITY_CHANGED, now, details=details)])
    return case


@transaction.atomic
def case_note_add(*, case: Case, actor: User, text: str, now: datetime | None = None) -> CaseEvent:
    """Add an internal note to the case's timeline."""
    text = text.strip()
    if not text:
        raise ApplicationError("Empty note.", errors={"text": ["This field may not be blank."]})
    if len(text) > TEXT_MAX:
        raise ApplicationError("Note too long.", errors={"text": [f"At most {TEXT_MAX} characters."]})
    case = _lock(case, actor)
    event = _event(case, actor, CaseEvent.Kind.NOTE, now or timezone.now(), details={"text": text})
    events_record([event])
    return event


@transaction.atomic
def case_contact_log(
    *, case: Case, actor: User, channel: str, outcome: str, note: str = "", now: datetime | None = None
) -> Case:
    """Record an attempt to reach the customer; a successful one on a new case marks it contacted."""
    errors = {}
    if channel not in CONTACT_CHANNELS:
        errors["channel"] = [f"Must be one of: {', '.join(CONTACT_CHANNELS)}."]
    if outcome not in CONTACT_OUTCOMES:
        errors["outcome"] = [f"Must be one of: {', '.join(CONTACT_OUTCOMES)}."]
    if len(note) > TEXT_MAX:
        errors["note"] = [f"At most {TEXT_MAX} characters."]
    if errors:
        raise ApplicationError("Invalid contact.", errors=errors)
    now = now or timezone.now()
    case = _lock(case, actor)
    details = {"channel": channel, "outcome": outcome, "note": note.strip()}
    events_record([_event(case, actor, CaseEvent.Kind.CONTACT_LOGGED, now, details=details)])
    if CONTACT_OUTCOMES[outcome] and case.status == S.NEW:
        return case_transition(case=case, to_status=S.CONTACTED, actor=actor, now=now)
    if CONTACT_OUTCOMES[outcome] and case.first_contacted_at is None:
        events: list[CaseEvent] = []
        before = snapshot(case)
        _first_contact(case, now, events, actor)
        save_changes(case, since=before)
        events_record(events)
    return case


@transaction.atomic
def case_root_causes_set(*, case: Case, actor: User, slugs: Iterable[str], now: datetime | None = None) -> Case:
    """Replace the root causes the case's response is coded with, by those the pickers offer.

    A code of a retired root cause may stay (its slug sent again) or go, but none is added anew,
    nor a category's: a response is coded with causes. New codes record their source from the
    actor's role (a manager's or an agent's); codes kept keep theirs.
    """
    slugs = list(slugs)
    case = _lock(case, actor)
    _codes_change(case, case.response_id, actor, lambda _: slugs, source=None, now=now)
    return case


@transaction.atomic
def response_root_causes_set(*, response: Response, actor: User, slugs: Iterable[str]) -> None:
    """Replace the root causes any response is coded with (a promoter's or passive's too).

    The rules of ``case_root_causes_set``; a response with a case is coded through its case (the
    case's rights, and a line in its history).
    """
    slugs = list(slugs)
    case = _response_case(response, actor)
    _codes_change(case, response.pk, actor, lambda _: slugs, source=None, now=None)


@transaction.atomic
def response_root_cause_add(*, response: Response, actor: User, slug: str, source: str | None = None) -> None:
    """Code ``response`` with one more root cause, keeping its other codes.

    ``source`` says how (``suggestion`` for an accepted one); None: by the actor's role.
    """
    case = _response_case(response, actor)
    _codes_change(case, response.pk, actor, lambda current: [*sorted(current), slug], source=source, now=None)


def _response_case(response: Response, actor: User) -> Case | None:
    """The response's case, locked and checked for ``actor``, or None: codings lock it before the response."""
    case = Case.objects.filter(response_id=response.pk).first()
    return _lock(case, actor) if case is not None else None


def response_lock(*, response: Response, actor: User) -> None:
    """Lock ``response`` for a change about its codes until the transaction ends, in coding's order.

    Its case first (checking that ``actor`` may work it), then the response row: every coding
    takes them in this order, so two of them wait for each other instead of deadlocking.
    """
    _response_case(response, actor)
    _lock_response(response.pk)


def _lock_response(response_id: int) -> None:
    list(Response.objects.select_for_update().filter(pk=response_id).values_list("pk", flat=True))


def _codes_change(
    case: Case | None,
    response_id: int,
    actor: User,
    wanted: Callable[[set[str]], Iterable[str]],
    *,
    source: str | None,
    now: datetime | None,
) -> None:
    """Code the response with ``wanted(current slugs)``: the one check and write of every coding.

    The response row is locked first, so two codings of one response apply one after the other
    and each sees the other's codes. ``source`` None: the actor's role (manager or agent).
    """
    _lock_response(response_id)
    codes = ResponseRootCause.objects.filter(response_id=response_id)
    coded = dict(codes.values_list("root_cause__slug", "root_cause_id"))
    slugs = list(dict.fromkeys(wanted(set(coded))))
    found = {rc.slug: rc for rc in root_cause_choices(keeping=coded.values()).filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise ApplicationError(
            "Unknown root causes.", errors={"root_causes": [f"No active root cause {s!r}." for s in unknown]}
        )
    current, wanted_slugs = set(coded), set(slugs)
    categories = sorted(s for s in wanted_slugs - current if found[s].is_category)
    if categories:
        raise ApplicationError(
            "Categories are not causes.",
            errors={"root_causes": [f"{s!r} is a category; code with one of its causes." for s in categories]},
        )
    if current == wanted_slugs:
        return
    if source is None:
        source = ResponseRootCause.Source.MANAGER if is_manager(actor) else ResponseRootCause.Source.AGENT
    added = [found[s] for s in wanted_slugs - current]
    held = root_causes_hold(added)
    retired = sorted(rc.slug for rc in added if rc.pk not in held)
    if retired:  # retired meanwhile, by a merge or a change that has just committed
        raise ApplicationError(
            "Retired root causes.", errors={"root_causes": [f"No active root cause {s!r}." for s in retired]}
        )
    codes.exclude(root_cause__slug__in=wanted_slugs).delete()
    ResponseRootCause.objects.bulk_create(
        [ResponseRootCause(response_id=response_id, root_cause=rc, coded_by=actor, source=source) for rc in added]
    )
    if case is not None:
        details = {
            "added": sorted(wanted_slugs - current),
            "removed": sorted(current - wanted_slugs),
            "source": str(source),
        }
        events_record([_event(case, actor, CaseEvent.Kind.ROOT_CAUSES_CHANGED, now or timezone.now(), details=details)])
