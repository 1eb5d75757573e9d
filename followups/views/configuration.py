"""The manager's configuration pages: routing rules, SLA policies, resolution codes, message templates
and surveys.

Each kind is a ``Section``: its form, the services that write it and the columns of its list.
One list page (with the form that adds one) and one edit page serve them all; the forms check
the input, the services write it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path

from followups.config_forms import MessageTemplateForm, ResolutionCodeForm, RoutingRuleForm, SlaPolicyForm, SurveyForm
from followups.models import CustomerMessageTemplate, ResolutionCode, RoutingRule, SlaPolicy
from followups.services.coding import resolution_code_create, resolution_code_update
from followups.services.messages import message_template_create, message_template_update
from followups.services.rules import routing_rule_create, routing_rule_update, sla_policy_create, sla_policy_update
from followups.views.access import manager_page
from surveys.models import Survey
from surveys.services.surveys import survey_create, survey_update

Column = tuple[str, Callable[[Any], Any]]


@dataclass(frozen=True)
class Section:
    url: str
    name: str  # URL names: <name>-list and <name>-edit
    title: str
    singular: str
    intro: str
    form: type[forms.ModelForm]
    queryset: Callable[[], QuerySet]
    create: Callable[..., Model]
    update: Callable[..., Model]
    columns: tuple[Column, ...]
    fixed_on_edit: tuple[str, ...] = ()  # fields shown but not changed once the record exists


def _or_dash(value: Any) -> Any:
    return value if value not in (None, "", []) else "—"


def _conditions(rule: RoutingRule) -> str:
    parts = []
    if rule.survey_id:
        parts.append(f"survey {rule.survey}")
    if rule.account_id:
        parts.append(f"account {rule.account}")
    if rule.attribute_name:
        parts.append(f"{rule.attribute_name} = {rule.attribute_value}")
    if rule.score_min is not None or rule.score_max is not None:
        parts.append(f"score {_or_dash(rule.score_min)} to {_or_dash(rule.score_max)}")
    if rule.keywords:
        parts.append("words: " + ", ".join(rule.keywords))
    return "; ".join(parts) or "every response"


def _scope(policy: SlaPolicy) -> str:
    parts = [f"survey {policy.survey}"] if policy.survey_id else []
    if policy.attribute_name:
        parts.append(f"{policy.attribute_name} = {policy.attribute_value}")
    return "; ".join(parts) or "all"


def _active(record: Any) -> str:
    return "Active" if record.active else "Inactive"


SECTIONS = (
    Section(
        url="routing",
        name="routing-rule",
        title="Routing rules",
        singular="routing rule",
        intro="Which team, and maybe which agent, gets a new case. Rules are tried in order; the first that "
        "matches wins, and a case no rule matches goes to the default team.",
        form=RoutingRuleForm,
        queryset=lambda: RoutingRule.objects.select_related("team", "owner", "survey", "account"),
        create=routing_rule_create,
        update=lambda record, **fields: routing_rule_update(rule=record, **fields),
        columns=(
            ("Order", lambda r: r.position),
            ("When", _conditions),
            ("Team", lambda r: r.team.name),
            ("Owner", lambda r: _or_dash(r.owner and r.owner.username)),
            ("State", _active),
        ),
    ),
    Section(
        url="sla",
        name="sla-policy",
        title="SLA policies",
        singular="SLA policy",
        intro="Business hours a case has for first contact and resolution, counted in its team's calendar. "
        "The most specific active policy for the case's priority wins; without one, hot cases get 4 and 16 "
        "hours, others 8 and 40.",
        form=SlaPolicyForm,
        queryset=lambda: SlaPolicy.objects.select_related("survey").order_by("priority", "name"),
        create=sla_policy_create,
        update=lambda record, **fields: sla_policy_update(policy=record, **fields),
        columns=(
            ("Priority", lambda p: p.get_priority_display()),
            ("For", _scope),
            ("First contact", lambda p: f"{p.first_contact_hours:g} h"),
            ("Resolution", lambda p: f"{p.resolution_hours:g} h"),
            ("State", _active),
        ),
    ),
    Section(
        url="resolution-codes",
        name="resolution-code",
        title="Resolution codes",
        singular="resolution code",
        intro="What agents pick when they resolve a case. Deactivate a code rather than delete it: cases "
        "resolved with it keep it.",
        form=ResolutionCodeForm,
        queryset=lambda: ResolutionCode.objects.order_by("position", "slug"),
        create=resolution_code_create,
        update=lambda record, slug, **fields: resolution_code_update(code=record, **fields),
        columns=(("Order", lambda c: c.position), ("Slug", lambda c: c.slug), ("State", _active)),
        fixed_on_edit=("slug",),
    ),
    Section(
        url="message-templates",
        name="message-template",
        title="Message templates",
        singular="message template",
        intro="What agents start from when they write to a customer from a case. {customer_name}, "
        "{case_number} and {survey} are filled in; the agent reads and edits the text before sending.",
        form=MessageTemplateForm,
        queryset=lambda: CustomerMessageTemplate.objects.order_by("name"),
        create=message_template_create,
        update=lambda record, **fields: message_template_update(template=record, **fields),
        columns=(("Subject", lambda t: t.subject), ("State", _active)),
    ),
    Section(
        url="surveys",
        name="survey-settings",
        title="Surveys",
        singular="survey",
        intro="The question customers answer, the thank-you texts they read after it, and when an answer opens a case.",
        form=SurveyForm,
        queryset=lambda: Survey.objects.order_by("name"),
        create=survey_create,
        update=lambda record, **fields: survey_update(survey=record, **fields),
        columns=(
            ("Slug", lambda s: s.slug),
            ("Question", lambda s: s.question),
            ("Hot at or below", lambda s: s.hot_threshold),
            ("State", _active),
        ),
        fixed_on_edit=("slug",),
    ),
)


def _form(section: Section, data: Any, record: Model | None) -> forms.ModelForm:
    # The form checks a copy: a model form writes the input onto its instance while validating,
    # and the service must see the stored values to know what changed.
    form = section.form(data, instance=copy.copy(record) if record is not None else None)
    for field in section.fixed_on_edit if record is not None else ():
        form.fields[field].disabled = True
    return form


def _saved(section: Section, form: forms.ModelForm, record: Model | None) -> Model | None:
    try:
        if record is None:
            return section.create(**form.cleaned_data)
        return section.update(record, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


def _list_view(section: Section) -> Callable[..., HttpResponse]:
    @manager_page
    def view(request: HttpRequest) -> HttpResponse:
        form = _form(section, request.POST or None, None)
        if request.method == "POST" and form.is_valid() and (record := _saved(section, form, None)):
            messages.success(request, f"{section.singular.capitalize()} {record} is added.")
            return redirect(f"{section.name}-list")
        rows = [(record, [value(record) for _, value in section.columns]) for record in section.queryset()]
        context = {"section": section, "form": form, "rows": rows, "headings": [label for label, _ in section.columns]}
        return render(request, "followups/manage/config_list.html", context)

    return view


def _edit_view(section: Section) -> Callable[..., HttpResponse]:
    @manager_page
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        record = get_object_or_404(section.queryset(), pk=pk)
        form = _form(section, request.POST or None, record)
        if request.method == "POST" and form.is_valid() and _saved(section, form, record):
            messages.success(request, f"{section.singular.capitalize()} {record} is saved.")
            return redirect(f"{section.name}-list")
        return render(
            request, "followups/manage/config_edit.html", {"section": section, "form": form, "record": record}
        )

    return view


def urlpatterns() -> list[URLPattern]:
    patterns = []
    for section in SECTIONS:
        patterns += [
            path(f"{section.url}/", _list_view(section), name=f"{section.name}-list"),
            path(f"{section.url}/<int:pk>/", _edit_view(section), name=f"{section.name}-edit"),
        ]
    return patterns
