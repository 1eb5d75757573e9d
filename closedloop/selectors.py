"""Reads that join intake with the loops (NPS grouped by root cause needs both apps)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from followups.selectors import nps_by_root_cause
from surveys.selectors import TIME_GROUPS, group_expression, nps_breakdown, response_list

NPS_FILTERS = ("survey", "submitted_after", "submitted_before")


def nps_report(*, filters: dict[str, Any], group_by: str = "") -> list[dict[str, Any]]:
    """The rows of GET /api/v1/nps/: one per group (one in all without ``group_by``).

    Periods follow each other, so each time row also says how NPS moved since the row before
    and whether that change is significant. Raises ValidationError for an unknown grouping.
    """
    responses = response_list(filters={k: v for k, v in filters.items() if k in NPS_FILTERS}).select_related(None)
    if group_by == "root_cause":
        rows = nps_by_root_cause(responses=responses)
    elif not group_by:
        rows = nps_breakdown(responses=responses)
    else:
        group = group_expression(group_by)
        if group is None:
            raise ValidationError({"group_by": ["Use day, week, month, quarter, attribute:<name> or root_cause."]})
        rows = nps_breakdown(responses=responses, group=group, group_by=group_by)
    if group_by in TIME_GROUPS:
        return [row.as_dict(rows[index - 1] if index else None) for index, row in enumerate(rows)]
    return [row.as_dict() for row in rows]
