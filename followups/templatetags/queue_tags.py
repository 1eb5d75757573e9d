"""The queues' sortable column headers: a link to the same queue in the column's order."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str) -> SafeString:
    """A ``<th>`` whose link sorts by ``key``, or reverses the order when it already sorts by it.

    The other GET parameters (filters, search) are kept and the page goes back to the first, so a
    sorted queue stays a link to bookmark; ``aria-sort`` tells screen readers the current order.
    """
    request = context["request"]
    current = context.get("sort", "")
    ascending, descending = current == key, current == f"-{key}"
    query = request.GET.copy()
    query["sort"] = f"-{key}" if ascending else key
    query.pop("page", None)
    state = "ascending" if ascending else "descending" if descending else "none"
    arrow = " ▲" if ascending else " ▼" if descending else ""
    return format_html(
        '<th scope="col" aria-sort="{}"><a class="sort" href="?{}">{}<span aria-hidden="true">{}</span></a></th>',
        state,
        query.urlencode(),
        label,
        arrow,
    )
