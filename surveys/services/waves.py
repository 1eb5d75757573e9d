"""Relationship waves: a survey sent to a sample of the customers who may be asked, spread over a window.

Planning reads the customers a thousand at a time (their askings in two queries a chunk) and
applies the same fatigue rules as every invitation (``surveys.services.invitations``); each
customer who may not be asked gets a suppressed invitation with the reason, and a random
sample of the others gets one scheduled, their sending times spread evenly over the window
so the desk is not flooded with answers at once.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from closedloop.lib.db import statistics_refresh
from closedloop.lib.exceptions import ApplicationError
from surveys.models import Channel, Customer, Invitation, Survey, SurveyWave
from surveys.services.invitations import askings, staff_emails, suppression

CHUNK = 1000
MAX_WINDOW_HOURS = 24 * 31


@dataclass(frozen=True)
class WavePlan:
    wave: SurveyWave
    scheduled: int
    suppressed: Counter[str]


def parse_segments(pairs: list[str]) -> dict[str, str]:
    """``attr=value`` pairs as a mapping; a malformed pair is an error naming it."""
    segments: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ApplicationError(f"Segments are attribute=value; {pair!r} is not.")
        segments[name.strip()] = value.strip()
    return segments


def _matching(segments: Mapping[str, str]) -> QuerySet[Customer]:
    customers = Customer.objects.filter(erased_at__isnull=True)
    for name, value in segments.items():
        customers = customers.filter(**{f"attributes__{name}": value})
    return customers


def _chunks(customers: QuerySet[Customer]) -> Iterator[list[Customer]]:
    last = 0
    while chunk := list(customers.filter(pk__gt=last).select_related("account").order_by("pk")[:CHUNK]):
        yield chunk
        last = chunk[-1].pk


def _check(survey: Survey, sample: int | None, window_hours: int, segments: Mapping[str, str]) -> None:
    errors: dict[str, list[str]] = {}
    if not survey.active:
        errors["survey"] = ["This survey is inactive."]
    if sample is not None and sample < 1:
        errors["sample"] = ["At least one customer."]
    if not 1 <= window_hours <= MAX_WINDOW_HOURS:
        errors["window_hours"] = [f"From 1 to {MAX_WINDOW_HOURS} hours."]
    if any(not name.replace("_", "").isalnum() for name in segments):
        errors["segments"] = ["Attribute names are letters, digits and underscores."]
    if errors:
        raise ApplicationError("Invalid wave.", errors=errors)


@transaction.atomic
def relationship_wave_send(
    *,
    survey: Survey,
    segments: Mapping[str, str] | None = None,
    sample: int | None = None,
    window_hours: int = 24,
    actor: User | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> WavePlan:
    """Plan a wave: suppress who may not be asked (recorded with the reason), schedule a sample of the rest."""
    segments = dict(segments or {})
    _check(survey, sample, window_hours, segments)
    now, rng = now or timezone.now(), rng or random.Random()
    wave = SurveyWave.objects.create(
        survey=survey, segments=segments, sample=sample, window_hours=window_hours, created_by=actor, created_at=now
    )
    eligible: list[int] = []
    suppressed: Counter[str] = Counter()
    matched = 0
    for chunk in _chunks(_matching(segments)):
        matched += len(chunk)
        asked = askings([customer.pk for customer in chunk], now)
        staff = staff_emails(customer.email for customer in chunk)
        refused = []
        for customer in chunk:
            reason = suppression(
                customer, survey=survey, channel=Channel.EMAIL, asked=asked.get(customer.pk, []), staff=staff, now=now
            )
            if reason:
                suppressed[reason] += 1
                refused.append(_invitation(wave, customer.pk, now, status=Invitation.Status.SUPPRESSED, reason=reason))
            else:
                eligible.append(customer.pk)
        Invitation.objects.bulk_create(refused, batch_size=CHUNK)
    chosen = eligible if sample is None or sample >= len(eligible) else rng.sample(eligible, sample)
    step = timedelta(hours=window_hours) / max(len(chosen), 1)
    Invitation.objects.bulk_create(
        (_invitation(wave, pk, now, send_at=now + index * step) for index, pk in enumerate(sorted(chosen))),
        batch_size=CHUNK,
    )
    statistics_refresh(Invitation, written=matched)
    wave.matched, wave.eligible = matched, len(eligible)
    wave.save(update_fields=["matched", "eligible"])
    return WavePlan(wave, len(chosen), suppressed)


def _invitation(wave: SurveyWave, customer_id: int, now: datetime, **fields: Any) -> Invitation:
    fields.setdefault("send_at", now)
    fields["next_attempt_at"] = fields["send_at"]
    return Invitation(survey_id=wave.survey_id, customer_id=customer_id, wave=wave, created_at=now, **fields)


def wave_progress(waves: QuerySet[SurveyWave]) -> QuerySet[SurveyWave]:
    """The waves with their invitations counted by status, in the same query."""
    counts = {status: Count("invitations", filter=Q(invitations__status=status)) for status in Invitation.Status.values}
    return waves.select_related("survey", "created_by").annotate(**counts)
