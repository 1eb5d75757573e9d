"""Routing rules and SLA policies: the configuration that decides where a new case goes and how
long it may take. Changes apply to cases opened from then on; open cases keep their deadlines."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from closedloop.lib.exceptions import save_unique
from closedloop.lib.updates import model_update
from followups.models import RoutingRule, SlaPolicy

RULE_FIELDS = frozenset({f.name for f in RoutingRule._meta.concrete_fields} - {"id"})
POLICY_FIELDS = frozenset({f.name for f in SlaPolicy._meta.concrete_fields} - {"id"})


def _checked(fields: dict[str, Any], known: frozenset[str], what: str) -> dict[str, Any]:
    unknown = set(fields) - known
    if unknown:
        raise TypeError(f"not {what} settings: {sorted(unknown)}")
    return fields


@transaction.atomic
def routing_rule_create(**fields: Any) -> RoutingRule:
    """Add a rule; its position orders it among the others (the lowest matching one wins)."""
    rule = RoutingRule(**_checked(fields, RULE_FIELDS, "routing rule"))
    rule.full_clean()
    save_unique(rule)
    return rule


@transaction.atomic
def routing_rule_update(*, rule: RoutingRule, **fields: Any) -> RoutingRule:
    model_update(rule, _checked(fields, RULE_FIELDS, "routing rule"))
    return rule


@transaction.atomic
def sla_policy_create(**fields: Any) -> SlaPolicy:
    policy = SlaPolicy(**_checked(fields, POLICY_FIELDS, "SLA policy"))
    policy.full_clean()
    save_unique(policy)
    return policy


@transaction.atomic
def sla_policy_update(*, policy: SlaPolicy, **fields: Any) -> SlaPolicy:
    model_update(policy, _checked(fields, POLICY_FIELDS, "SLA policy"))
    return policy
