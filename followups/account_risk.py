"""Which client accounts are at risk, and why: a small points rule over plain counts. No database.

Three warning signs, each worth points (the table below), add up to an account's risk:

1. NPS fell from the quarter before: a significant fall (``surveys.nps.compare``) counts most;
   a fall of at least ``NOTICEABLE_FALL`` points that is still within the noise counts less.
2. Key contacts left survey invitations unanswered in the period. A key contact is a customer
   whose ``key_contact`` attribute is yes (``is_key_contact``): the people a service provider's
   account manager talks to, whose silence is the early sign of a lost client.
3. Cases of the account are overdue now.

The counted signs are capped, so one noisy sign cannot outrank an account showing all three.
Accounts are ranked by points, then overdue cases, then silent key contacts, then name; each
ranking comes with one sentence that says where its points come from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from surveys.nps import NpsComparison, NpsSummary, compare

KEY_CONTACT_ATTRIBUTE = "key_contact"
# How the attribute reads "yes" in what integrations and CSV imports send.
KEY_CONTACT_VALUES = frozenset({"yes", "true", "1", "y"})

# A fall of at least this many NPS points is worth a look even when it is not significant.
NOTICEABLE_FALL = 10.0
POINTS_SIGNIFICANT_FALL = 4
POINTS_NOTICEABLE_FALL = 2
POINTS_PER_SILENT_KEY_CONTACT = 1
MAX_SILENT_KEY_CONTACT_POINTS = 3
POINTS_PER_OVERDUE_CASE = 2
MAX_OVERDUE_POINTS = 6
# The points from which an account is at high or medium risk.
HIGH_FROM = 6
MEDIUM_FROM = 2


class RiskLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def is_key_contact(attributes: dict[str, Any]) -> bool:
    """Whether a customer's attributes mark them as a key contact of their account."""
    value = attributes.get(KEY_CONTACT_ATTRIBUTE)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in KEY_CONTACT_VALUES


@dataclass(frozen=True, slots=True)
class AccountSignals:
    """What the database counts for one account: NPS in the period and the one before, and the rest now."""

    external_id: str
    name: str
    current: NpsSummary
    previous: NpsSummary
    silent_key_contacts: int  # key contacts with an invitation delivered in the period and not answered
    overdue_cases: int


@dataclass(frozen=True, slots=True)
class AccountRisk:
    signals: AccountSignals
    change: NpsComparison | None  # current minus previous; None when either period has no responses
    points: int
    level: RiskLevel
    explanation: str


def fall_points(change: NpsComparison | None) -> int:
    """Points for the change of NPS: a significant fall, a noticeable one, or none."""
    if change is None or change.difference >= 0:
        return 0
    if change.significant:
        return POINTS_SIGNIFICANT_FALL
    return POINTS_NOTICEABLE_FALL if -change.difference >= NOTICEABLE_FALL else 0


def silent_key_contact_points(count: int) -> int:
    return min(count * POINTS_PER_SILENT_KEY_CONTACT, MAX_SILENT_KEY_CONTACT_POINTS)


def overdue_points(count: int) -> int:
    return min(count * POINTS_PER_OVERDUE_CASE, MAX_OVERDUE_POINTS)


def risk_level(points: int) -> RiskLevel:
    if points >= HIGH_FROM:
        return RiskLevel.HIGH
    return RiskLevel.MEDIUM if points >= MEDIUM_FROM else RiskLevel.LOW


def _signed(value: float | None) -> str:
    return "no responses" if value is None else f"{value:+.0f}"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def explain(signals: AccountSignals, change: NpsComparison | None, points: int) -> str:
    """One sentence: the risk level and points, then each warning sign that gave points."""
    reasons = []
    fall = fall_points(change)
    if change is not None and fall:
        kind = "a significant fall" if change.significant else "within the noise"
        reasons.append(
            f"NPS fell {-change.difference:.0f} points, from {_signed(signals.previous.nps)} "
            f"to {_signed(signals.current.nps)} ({kind})"
        )
    if signals.silent_key_contacts:
        who = _plural(signals.silent_key_contacts, "key contact has", "key contacts have")
        reasons.append(f"{who} not answered their survey")
    if signals.overdue_cases:
        reasons.append(f"{_plural(signals.overdue_cases, 'case is', 'cases are')} overdue")
    level = risk_level(points).value.capitalize()
    if not reasons:
        nps = "NPS did not fall" if change is not None else "no NPS of both quarters to compare"
        return f"{level} risk: {nps}, every key contact answered and no case is overdue."
    listed = reasons[0] if len(reasons) == 1 else "; ".join(reasons[:-1]) + "; and " + reasons[-1]
    return f"{level} risk ({_plural(points, 'point', 'points')}): {listed}."


def account_risk(signals: AccountSignals) -> AccountRisk:
    """The risk of one account, from its signals."""
    change = compare(signals.current, signals.previous)
    points = (
        fall_points(change)
        + silent_key_contact_points(signals.silent_key_contacts)
        + overdue_points(signals.overdue_cases)
    )
    return AccountRisk(signals, change, points, risk_level(points), explain(signals, change, points))


def rank_accounts(accounts: Iterable[AccountSignals]) -> list[AccountRisk]:
    """Accounts by risk, highest first; ties by overdue cases, silent key contacts, then name."""
    risks = [account_risk(signals) for signals in accounts]
    risks.sort(
        key=lambda risk: (
            -risk.points,
            -risk.signals.overdue_cases,
            -risk.signals.silent_key_contacts,
            risk.signals.name.lower(),
            risk.signals.external_id,
        )
    )
    return risks
