"""The default root-cause taxonomy: a fishbone for IT support, two levels deep.

Six categories (the bones: people, process, technology, communication, policy, product), each
with the causes an IT help desk hears most often. A cause's keywords are lower-case words or
short phrases that a customer's comment about it tends to contain; they drive suggestions, so
they lean towards what customers write ("locked out"), not what the desk calls it ("IAM").

The first migration that knows the taxonomy seeds it (``0004_default_taxonomy``), and
``root_cause_taxonomy_seed`` puts back what is missing on a database that was emptied. Both call
``seed_default_taxonomy``, which adds only the slugs that are not stored yet: a slug a manager
already uses keeps its row, name and place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Cause:
    slug: str
    name: str
    description: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    name: str
    description: str
    causes: tuple[Cause, ...]


DEFAULT_TAXONOMY: tuple[Category, ...] = (
    Category("people", "People", "Skills, attitude and availability of the service desk staff.", (
        Cause("agent-knowledge", "Agent knowledge", "The agent could not solve or understand the problem.",
              ("didn't know", "did not know", "no idea", "script", "passed between", "understood", "knowledge")),
        Cause("rude-or-unhelpful", "Rude or unhelpful", "The customer felt dismissed, talked down to or ignored.",
              ("rude", "unhelpful", "unfriendly", "dismissive", "attitude", "impolite", "condescending")),
        Cause("agent-unreachable", "Could not reach anyone", "Phones unanswered, chats unattended, no one on shift.",
              ("no one answered", "nobody answered", "on hold", "couldn't reach", "could not reach", "unavailable")),
    )),
    Category("process", "Process", "How requests flow: queues, hand-offs, closing criteria.", (
        Cause("slow-response", "Slow first response", "Long waits before anyone picks the ticket up.",
              ("slow", "waited", "waiting", "took longer", "queue", "response time")),
        Cause("too-many-handoffs", "Too many handoffs", "The ticket bounced between teams or people.",
              ("handoff", "hand-off", "transferred", "bounced", "passed around", "another team")),
        Cause("repeat-contact", "Ticket closed without fix", "Closed before the problem was solved, or reported again.",
              ("reopen", "same problem", "came back", "closed without", "not fixed", "still broken")),
        Cause("slow-resolution", "Slow resolution", "The work dragged on long after the first answer.",
              ("took ages", "weeks", "still not fixed", "still waiting", "dragged on")),
    )),
    Category("technology", "Technology", "Devices, networks and identity systems that failed.", (
        Cause("hardware", "Laptop and hardware", "Broken, slow or missing laptops, printers and peripherals.",
              ("laptop", "printer", "docking station", "monitor", "keyboard", "hardware", "device")),
        Cause("vpn-access", "VPN and remote access", "VPN drops, missing permissions, remote access.",
              ("vpn", "access", "remote", "connect", "shared drive")),
        Cause("password-reset", "Password and account lockout", "Lock-outs, password resets and second factors.",
              ("password", "mfa", "locked out", "lockout", "two-factor", "sign in")),
        Cause("email-calendar", "Email and calendar", "Mail, calendars and meeting invites that fail.",
              ("email", "outlook", "calendar", "mailbox", "inbox", "meeting invite")),
        Cause("network", "Network and Wi-Fi", "Slow or dropping office network, Wi-Fi and outages.",
              ("wifi", "wi-fi", "network", "internet", "outage", "connection")),
    )),
    Category("communication", "Communication", "Keeping customers informed while they wait.", (
        Cause("no-updates", "No status updates", "The customer had to chase for news.",
              ("no update", "nobody told", "status", "chase", "chasing", "heard nothing")),
        Cause("unclear-instructions", "Unclear instructions", "Steps or answers the customer could not follow.",
              ("unclear", "confusing", "instructions", "jargon", "didn't understand", "did not understand")),
        Cause("no-time-estimate", "No time estimate", "Nobody said how long the fix would take.",
              ("no idea when", "how long", "estimate", "no eta", "no timeline")),
    )),
    Category("policy", "Policy", "Rules that stand between customers and a fix.", (
        Cause("approval-rules", "Approval delays", "Approvals that hold up routine requests.",
              ("approval", "approve", "sign-off", "authorise", "authorize")),
        Cause("access-policy", "Access policy too strict", "Rights and restrictions that block normal work.",
              ("admin rights", "not allowed", "restricted", "blocked", "permission", "policy")),
        Cause("licence-limits", "Licence limits", "No seat, no licence, or a cheaper edition than needed.",
              ("licence", "license", "seat", "subscription")),
    )),
    Category("product", "Product", "The software and support tools customers use themselves.", (
        Cause("software-bugs", "Software bugs", "Errors, crashes and freezes in the software itself.",
              ("bug", "crash", "crashes", "error", "freezes", "glitch")),
        Cause("missing-feature", "Missing feature", "The product cannot do what the customer needs.",
              ("missing feature", "feature", "can't do", "cannot do", "doesn't support", "does not support")),
        Cause("self-service-portal", "Self-service portal", "The portal is hard to use or fails.",
              ("portal", "self-service", "knowledge base")),
    )),
)  # fmt: skip


def seed_default_taxonomy(root_cause_model: Any) -> int:
    """Add the categories and causes of DEFAULT_TAXONOMY whose slugs are not stored; return how many.

    ``root_cause_model`` is the RootCause model, or its historical version in a migration. Four
    queries whatever is stored (the slugs present, the categories' insert, their ids, the causes'
    insert). A cause goes under
    the stored row of its category's slug, whatever a manager has made of that row since.
    """
    manager = root_cause_model.objects
    wanted = [category.slug for category in DEFAULT_TAXONOMY]
    wanted += [cause.slug for category in DEFAULT_TAXONOMY for cause in category.causes]
    stored = set(manager.filter(slug__in=wanted).values_list("slug", flat=True))
    categories = [
        root_cause_model(slug=c.slug, name=c.name, description=c.description)
        for c in DEFAULT_TAXONOMY
        if c.slug not in stored
    ]
    manager.bulk_create(categories)
    parents = dict(manager.filter(slug__in=[c.slug for c in DEFAULT_TAXONOMY]).values_list("slug", "pk"))
    causes = [
        root_cause_model(
            slug=cause.slug,
            name=cause.name,
            description=cause.description,
            keywords=list(cause.keywords),
            parent_id=parents[category.slug],
        )
        for category in DEFAULT_TAXONOMY
        for cause in category.causes
        if cause.slug not in stored
    ]
    manager.bulk_create(causes)
    return len(categories) + len(causes)
