"""The case page and the small views its forms post to.

Each action view parses its form and calls one service. Without JavaScript it redirects back to
the case page (post/redirect/get); with htmx it answers with the case's working area (status,
owner, root causes, forms and timeline) re-rendered, which the page swaps in place. A refusal of
the service is shown on the form that caused it (a missing right above the forms), never as a
server error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from closedloop.lib.exceptions import ApplicationError, ConflictError
from closedloop.lib.requests import SignedInRequest
from followups.case_facts import closure, hot_reasons, next_deadline
from followups.customer_emails import message_draft
from followups.forms import (
    REFUSED,
    AssignForm,
    CaseForm,
    CaseMessageForm,
    ContactForm,
    NoteForm,
    RootCausesForm,
    SuggestionForm,
    TransitionForm,
)
from followups.models import Case
from followups.permissions import can_assign_case, can_work_case, case_owners, may_own_case
from followups.selectors import (
    case_detail,
    case_event_names,
    case_list,
    case_pauses,
    case_timeline,
    coded_root_causes,
    customer_history,
    message_template_list,
    queue_neighbours,
    suggestions_for,
)
from followups.services.cases import (
    case_assign,
    case_contact_log,
    case_note_add,
    case_root_causes_set,
    case_transition,
)
from followups.services.messages import case_message_send
from followups.services.suggestions import suggestion_decide
from followups.views.access import agent_page
from followups.views.queues import assignees
from followups.workflow import CaseStatus, needs_close_reason

# The actions that change the status without asking anything, by the status they move to.
QUICK_TRANSITIONS = {
    CaseStatus.CONTACTED: "Mark contacted",
    CaseStatus.IN_PROGRESS: "Start work",
    CaseStatus.WAITING_ON_CUSTOMER: "Wait on customer",
}


def _load(pk: int) -> Case:
    try:
        return case_detail(case_id=pk)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None


def _work_context(request: SignedInRequest, case: Case, forms: dict[str, CaseForm]) -> dict[str, Any]:
    """What the case's working area shows; ``forms`` replaces the blank form of the same name."""
    user = request.user
    can_work = can_work_case(user, case)
    can_reassign = can_assign_case(user, case, None)
    owners = list(case_owners(case.team)) if can_reassign else []
    now = timezone.now()
    events = list(case_timeline(case=case))
    context = {
        "case": case,
        "now": now,
        "events": events,
        "names": case_event_names(events),
        "hot": hot_reasons(case),
        "deadline": next_deadline(case, now),
        "closure": closure(case, events),
        "pauses": case_pauses(case=case),
        "root_cause_codes": coded_root_causes(case),
        "can_work": can_work,
        "can_reassign": can_reassign,
        "can_take": not can_reassign and can_assign_case(user, case, user.pk) and may_own_case(user, case),
        "assignees": assignees(owners, case.owner),
    }
    if can_work:
        context["transition_form"] = TransitionForm(case=case)
        context["note_form"] = NoteForm(case=case)
        context["contact_form"] = ContactForm(case=case)
        context["root_causes_form"] = RootCausesForm(case=case)
        context.update(_actions(case))
        context.update(_composer(request, case))
        if case.is_open:
            suggested = suggestions_for([case.response])
            context["suggestions"] = suggested.by_response.get(case.response_id, [])
            context["suggestion_model_version"] = suggested.model_version
    context.update(forms)
    context["open_action"] = _open_action(forms) or ("message" if context.get("picked_template") else "")
    return context


def _actions(case: Case) -> dict[str, Any]:
    """The status actions the workflow allows now, each with only the fields it needs."""
    allowed = case.allowed_next_statuses()
    reopen = not case.is_open and CaseStatus.IN_PROGRESS in allowed
    return {
        "quick_transitions": [
            (status.value, label)
            for status, label in QUICK_TRANSITIONS.items()
            if status in allowed and not (reopen and status == CaseStatus.IN_PROGRESS)
        ],
        "can_resolve": CaseStatus.RESOLVED in allowed,
        "can_close": CaseStatus.CLOSED in allowed,
        "close_needs_reason": needs_close_reason(case.status, CaseStatus.CLOSED),
        "can_reopen": reopen,
    }


def _composer(request: SignedInRequest, case: Case) -> dict[str, Any]:
    """The message templates, and the message form filled in from the one picked (``?template=``)."""
    templates = list(message_template_list())
    picked = next((t for t in templates if str(t.pk) == request.GET.get("template")), None)
    initial = {}
    if picked is not None:
        initial["subject"], initial["body"] = message_draft(picked, case)
    return {
        "message_templates": templates,
        "picked_template": picked,
        "message_form": CaseMessageForm(case=case, initial=initial),
    }


def _open_action(forms: dict[str, CaseForm]) -> str:
    """Which of the panel's folded actions to show unfolded: the one whose form has errors."""
    for name, form in forms.items():
        if name == "transition_form":
            wanted = form.data.get("status-to", "")
            return {"resolved": "resolve", "closed": "close"}.get(wanted, "")
        action = name.removesuffix("_form").replace("_", "-")
        return "root-causes" if action == "suggestion" else action
    return ""


@agent_page
def case_page(request: SignedInRequest, pk: int) -> HttpResponse:
    return _render(request, _load(pk), partial=False)


def _render(
    request: SignedInRequest,
    case: Case,
    *,
    partial: bool,
    forms: dict[str, CaseForm] | None = None,
    notice: str = "",
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    """The whole case page, or only its working area for htmx to swap in place.

    The working area always comes as a 200, with any errors inside it: htmx swaps only
    successful answers.
    """
    context = _work_context(request, case, forms or {})
    context.update(notice=notice, refusal=refusal)
    if partial:
        return render(request, "followups/partials/case_work.html", context)
    context["history"] = customer_history(case=case)
    context["neighbours"] = queue_neighbours(case=case, user=request.user)
    return render(request, "followups/case_detail.html", context, status=status)


Perform = Callable[[Case, Any], None]


def _act(
    request: SignedInRequest, pk: int, name: str, form_class: type[CaseForm], perform: Perform, done: str
) -> HttpResponse:
    """Validate the posted form and call ``perform(case, form)``; answer with a redirect or a render.

    ``name`` is the form's name in the page's context, where it replaces the blank one. After a
    refusal nothing was stored (each service runs in one transaction), so ``case`` is still current.
    """
    case = _load(pk)
    form = form_class(request.POST, case=case)
    partial = bool(request.htmx)
    if not form.is_valid():
        return _render(request, case, partial=partial, forms={name: form}, status=400)
    try:
        perform(case, form)
    except PermissionDenied:
        # Someone without rights may not see this form at all, so the refusal goes above the forms.
        return _render(request, case, partial=partial, refusal=REFUSED, status=403)
    except ApplicationError as error:
        form.add_service_error(error)
        status = 409 if isinstance(error, ConflictError) else 400
        return _render(request, case, partial=partial, forms={name: form}, status=status)
    if partial:
        return _render(request, _load(pk), partial=True, notice=done)
    messages.success(request, done)
    return redirect("case-detail", pk=pk)


@agent_page
@require_POST
def case_transition_view(request: SignedInRequest, pk: int) -> HttpResponse:
    def perform(case: Case, form: TransitionForm) -> None:
        data = form.cleaned_data
        code = data["resolution_code"].slug if data["resolution_code"] else None
        case_transition(
            case=case,
            to_status=data["to"],
            actor=request.user,
            note=data["note"],
            reason=data["reason"],
            resolution_code=code,
        )

    return _act(request, pk, "transition_form", TransitionForm, perform, "Status changed.")


@agent_page
@require_POST
def case_note_view(request: SignedInRequest, pk: int) -> HttpResponse:
    def perform(case: Case, form: NoteForm) -> None:
        case_note_add(case=case, actor=request.user, text=form.cleaned_data["text"])

    return _act(request, pk, "note_form", NoteForm, perform, "Note added.")


@agent_page
@require_POST
def case_contact_view(request: SignedInRequest, pk: int) -> HttpResponse:
    def perform(case: Case, form: ContactForm) -> None:
        data = form.cleaned_data
        case_contact_log(
            case=case, actor=request.user, channel=data["channel"], outcome=data["outcome"], note=data["note"]
        )

    return _act(request, pk, "contact_form", ContactForm, perform, "Contact logged.")


@agent_page
@require_POST
def case_root_causes_view(request: SignedInRequest, pk: int) -> HttpResponse:
    def perform(case: Case, form: RootCausesForm) -> None:
        case_root_causes_set(case=case, actor=request.user, slugs=form.slugs())

    return _act(request, pk, "root_causes_form", RootCausesForm, perform, "Root causes saved.")


@agent_page
@require_POST
def case_message_view(request: SignedInRequest, pk: int) -> HttpResponse:
    def perform(case: Case, form: CaseMessageForm) -> None:
        data = form.cleaned_data
        case_message_send(case=case, actor=request.user, subject=data["subject"], body=data["body"])

    return _act(request, pk, "message_form", CaseMessageForm, perform, "Email sent to the customer.")


@agent_page
@require_POST
def case_suggestion_accept_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """Accept a suggested root cause: codes the case's response with it (source ``suggestion``)."""

    def perform(case: Case, form: SuggestionForm) -> None:
        data = form.cleaned_data
        suggestion_decide(
            response=case.response,
            root_cause=data["root_cause"],
            source=data["source"],
            accepted=True,
            actor=request.user,
            model_version=data["model_version"],
        )

    return _act(request, pk, "suggestion_form", SuggestionForm, perform, "Suggested root cause accepted.")


def _assign(request: SignedInRequest) -> Perform:
    def perform(case: Case, form: AssignForm) -> None:
        case_assign(case=case, owner=form.cleaned_data["owner"], actor=request.user)

    return perform


@agent_page
@require_POST
def case_assign_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """Change a case's owner, from the case page or from a row of the team queue (sent with ``next``)."""
    next_url = _next_url(request)
    if next_url is None:
        return _act(request, pk, "assign_form", AssignForm, _assign(request), "Owner changed.")
    case = _load(pk)
    form = AssignForm(request.POST, case=case)
    if form.is_valid():
        try:
            _assign(request)(case, form)
        except (ApplicationError, PermissionDenied) as error:
            form.add_service_error(error)
    refusal = " ".join(str(message) for field_errors in form.errors.values() for message in field_errors)
    if request.htmx:
        return _queue_row(request, pk, next_url, refusal)
    if refusal:
        messages.error(request, f"Case {pk}: {refusal}")
    else:
        messages.success(request, f"Case {pk}: owner changed.")
    return redirect(next_url)


def _next_url(request: SignedInRequest) -> str | None:
    """The queue page a reassignment came from, if it is one of ours."""
    url = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else None


def _queue_row(request: SignedInRequest, pk: int, next_url: str, error: str) -> HttpResponse:
    """The team queue's row of the case, re-rendered after a reassignment (with htmx)."""
    case = case_list().get(pk=pk)
    case.assignees = assignees(list(case_owners(case.team)), case.owner)  # type: ignore[attr-defined]  # for the row
    context = {
        "case": case,
        "now": timezone.now(),
        "next_url": next_url,
        "row_error": error,
        "row_notice": "" if error else "Owner changed.",
        "team_view": True,
    }
    return render(request, "followups/partials/queue_row.html", context)
