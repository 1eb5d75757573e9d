"""The manager's page of the root-cause taxonomy: categories and causes, their codes, edits and merges,
and how well the suggestions do.

Plain forms that post and redirect, as on the webhook pages. The rules (two levels, slugs that
stay, who merges into what) are the services'; their refusals are put back on the form that
caused them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.requests import SignedInRequest
from followups.models import RootCause, SuggestionModel
from followups.selectors import (
    root_cause_codes_under,
    root_cause_list,
    root_cause_merges,
    root_cause_tree,
    suggestion_model_current,
)
from followups.services.coding import KEYWORDS_MAX, root_cause_create, root_cause_merge, root_cause_update
from followups.services.suggestions import suggestion_model_train_enqueue
from followups.views.access import manager_page

NEW_CATEGORY = ""


class KeywordsField(forms.CharField):
    """Keywords typed as one line, separated by commas; the service lower-cases them."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 5000)
        kwargs.setdefault(
            "help_text", "Separated by commas: lower-case words or short phrases a customer's comment would contain."
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value: Any) -> list[str]:  # a list, not the text typed
        text = super().clean(value)
        words = [word.strip() for word in text.split(",") if word.strip()]
        if len(words) > KEYWORDS_MAX:
            raise ValidationError(f"At most {KEYWORDS_MAX} keywords.")
        if any(len(word) > 100 for word in words):
            raise ValidationError("Each keyword has at most 100 characters.")
        return words


class ServiceErrorForm(forms.Form):
    """A form that shows a service's refusals: on the fields they name, else on top."""

    def add_service_error(self, error: ValidationError | ApplicationError) -> None:
        """The service's field messages go on their fields (on top when the form has no such field)."""
        if isinstance(error, ApplicationError):
            errors: dict = error.errors or {None: [error.message]}
        else:
            errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for field, field_messages in errors.items():
            for message in field_messages:
                self.add_error(field if field in self.fields else None, message)


class RootCauseForm(ServiceErrorForm):
    """Adding a root cause: a category, or a cause under one (``parent``)."""

    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=80, help_text="Lower-case letters, digits and hyphens. It never changes once saved."
    )
    parent = forms.ChoiceField(label="Category", required=False)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    keywords = KeywordsField()

    no_parent = "None: this is a new category"

    def __init__(self, *args: Any, categories: list[RootCause], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        named = ((c.slug, c.name if c.active else f"{c.name} (inactive)") for c in categories)
        choices = [(NEW_CATEGORY, self.no_parent), *named]
        self.fields["parent"].choices = choices  # type: ignore[attr-defined]  # a ChoiceField


class RootCauseEditForm(RootCauseForm):
    """Changing a root cause: everything but its slug; its category only where a move is possible."""

    def __init__(
        self, *args: Any, root_cause: RootCause, categories: list[RootCause], can_move: bool, **kwargs: Any
    ) -> None:
        self.no_parent = "None: it is a category" if root_cause.is_category else "None: make it a category"
        others = [c for c in categories if c.pk != root_cause.pk]
        if root_cause.parent is not None and root_cause.parent not in others:
            others.insert(0, root_cause.parent)  # an inactive category: staying there is no move
        super().__init__(*args, categories=others, **kwargs)
        del self.fields["slug"]
        if not can_move:
            del self.fields["parent"]


class MergeForm(forms.Form):
    into = forms.ChoiceField(label="Merge into", help_text="The survivor: it keeps its name, slug and codes.")

    def __init__(self, *args: Any, candidates: list[RootCause], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["into"].choices = [  # type: ignore[attr-defined]  # a ChoiceField
            (c.slug, f"{c.name} ({c.parent.name})" if c.parent else c.name) for c in candidates
        ]


def _merge_candidates(root_cause: RootCause) -> list[RootCause]:
    """Where ``root_cause`` may merge: active, unmerged nodes of its kind, other than itself."""
    kind = "category" if root_cause.is_category else "cause"
    candidates = root_cause_list(filters={"active": "true", "kind": kind}).exclude(pk=root_cause.pk)
    return sorted(candidates, key=lambda c: (c.parent.name if c.parent else "", c.name))


@manager_page
def taxonomy_page(request: SignedInRequest) -> HttpResponse:
    """The taxonomy, inactive root causes apart, the latest merges, and the form to add one."""
    taxonomy = root_cause_tree()
    form = RootCauseForm(request.POST or None, categories=taxonomy.categories)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            root_cause = root_cause_create(**{**data, "parent": data["parent"] or None})
        except ValidationError as error:
            form.add_service_error(error)
        else:
            kind = "Category" if root_cause.is_category else "Cause"
            messages.success(request, f"{kind} {root_cause.name} added.")
            return redirect("taxonomy")
    model = suggestion_model_current()
    context = {
        "taxonomy": taxonomy,
        "form": form,
        "merges": root_cause_merges(),
        "model": model,
        "quality": _quality(model, taxonomy.categories) if model else [],
    }
    return render(request, "followups/taxonomy/list.html", context, status=400 if form.errors else 200)


def _quality(model: SuggestionModel, categories: list[RootCause]) -> list[dict[str, Any]]:
    """The model's held-out scores per cause, named, the causes with held-out comments first."""
    names = {cause.slug: cause.name for category in categories for cause in category.causes}  # type: ignore[attr-defined]
    rows = [{"slug": slug, "name": names.get(slug, slug), **scores} for slug, scores in model.metrics["causes"].items()]
    return sorted(rows, key=lambda row: (-row["support"], row["name"]))


@manager_page
@require_POST
def suggestions_train_view(request: SignedInRequest) -> HttpResponse:
    """Queue a training of the suggestion classifier; the page shows the new model once it is stored."""
    suggestion_model_train_enqueue()
    messages.success(request, "Training queued: the new model appears here once the task cluster has trained it.")
    return redirect("taxonomy")


def _edit_context(root_cause: RootCause, form: RootCauseEditForm | None = None, merge_form: MergeForm | None = None):
    categories = list(root_cause_list(filters={"active": "true", "kind": "category"}))
    can_move = root_cause.parent_id is not None or not root_cause.children.exists()
    initial = {
        "name": root_cause.name,
        "parent": root_cause.parent.slug if root_cause.parent else NEW_CATEGORY,
        "description": root_cause.description,
        "keywords": root_cause.keywords,
    }
    return {
        "root_cause": root_cause,
        "code_count": root_cause.response_codes.count(),
        "cause_code_count": root_cause_codes_under(root_cause) if root_cause.is_category else 0,
        "form": form
        or RootCauseEditForm(initial=initial, root_cause=root_cause, categories=categories, can_move=can_move),
        "merge_form": merge_form or MergeForm(candidates=_merge_candidates(root_cause)),
        "categories": categories,
        "can_move": can_move,
    }


@manager_page
@require_http_methods(["GET", "POST"])
def root_cause_edit(request: SignedInRequest, slug: str) -> HttpResponse:
    """One root cause: change it, (de)activate it, or choose what to merge it into."""
    root_cause = get_object_or_404(root_cause_list(), slug=slug)
    if request.method == "GET":
        return render(request, "followups/taxonomy/edit.html", _edit_context(root_cause))
    context = _edit_context(root_cause)
    form = RootCauseEditForm(
        request.POST, root_cause=root_cause, categories=context["categories"], can_move=context["can_move"]
    )
    if form.is_valid():
        try:
            root_cause_update(root_cause=root_cause, **form.cleaned_data)
        except (ValidationError, ApplicationError) as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{form.cleaned_data['name']} saved.")
            return redirect("root-cause-edit", slug=slug)
    root_cause.refresh_from_db()  # the refused change may have touched the object in memory
    return render(request, "followups/taxonomy/edit.html", _edit_context(root_cause, form=form), status=400)


@manager_page
@require_POST
def root_cause_active(request: SignedInRequest, slug: str) -> HttpResponse:
    root_cause = get_object_or_404(RootCause, slug=slug)
    active = request.POST.get("active") == "true"
    try:
        root_cause_update(root_cause=root_cause, active=active)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        done = "reactivated" if active else "deactivated: it is no longer offered when coding, its codes stay"
        messages.success(request, f"{root_cause.name} {done}.")
    return redirect("root-cause-edit", slug=slug)


@manager_page
@require_http_methods(["GET", "POST"])
def root_cause_merge_view(request: SignedInRequest, slug: str) -> HttpResponse:
    """GET (with ``into``) asks to confirm and says what will move; POST merges."""
    root_cause = get_object_or_404(root_cause_list(), slug=slug)
    form = MergeForm(
        request.POST if request.method == "POST" else request.GET, candidates=_merge_candidates(root_cause)
    )
    if not form.is_valid():
        return render(request, "followups/taxonomy/edit.html", _edit_context(root_cause, merge_form=form), status=400)
    into = get_object_or_404(root_cause_list(), slug=form.cleaned_data["into"])
    if request.method == "GET":
        context = {
            "root_cause": root_cause,
            "into": into,
            "code_count": root_cause.response_codes.count(),
            "cause_count": root_cause.children.count(),
        }
        return render(request, "followups/taxonomy/merge.html", context)
    try:
        merge = root_cause_merge(root_cause=root_cause, into=into, actor=request.user)
    except (ValidationError, ApplicationError) as error:
        form.add_error(None, error.message if isinstance(error, ApplicationError) else error.messages[0])
        return render(request, "followups/taxonomy/edit.html", _edit_context(root_cause, merge_form=form), status=409)
    moved = merge.codes_moved + merge.duplicates_collapsed
    links = f" and {merge.improvement_links_moved} improvement links" if merge.improvement_links_moved else ""
    messages.success(request, f"{root_cause.name} merged into {into.name}: {moved} codes{links} moved.")
    return redirect("taxonomy")
