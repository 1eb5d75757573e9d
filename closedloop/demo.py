"""Demo data: a believable year of an IT service desk, built by ``manage.py seed_demo``.

Two service-desk teams, their agents, a manager and an integration account; a transactional
survey sent after solved tickets and a quarterly relationship survey; about 2,000 customers (many
in B2B accounts) who gave about 3,000 responses over the last twelve months, with an NPS that
improves slowly over the year and differs by segment; and comments coded (by agents and the
manager) with the causes of the default root-cause taxonomy, and a suggestion classifier
trained on them. The plan is a pure function of a seed and a moment, so the same seed
builds the same year; writing goes through the product's own services, ingestion first of all, so extensions
listening to ``responses_ingested`` see the demo exactly as they would see real traffic.

The follow-up loop has a past too: routing rules and resolution codes, then the last quarter
replayed in time order through the case services and the escalation sweep (each at its past
moment), so cases were opened, worked, breached, escalated, resolved and closed; and a few of
the last days' detractors are caught, right now, in every open state (at risk, overdue,
unowned, waiting on the customer). So does the outer loop: improvements against the worst
themes, owned, with target dates and histories over the past months, one per status short of
shipped, one with a manager's own priority. The accounts have key contacts and invitations behind
the answers name the agent and team that handled each ticket, so the account reports rank real
risks (some key contacts left last quarter's survey unanswered) and promoters' praise reaches
the agents they thank.
"""

from __future__ import annotations

import heapq
import random
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from closedloop.lib.roles import AGENT, INTEGRATION, MANAGER
from closedloop.users import user_create
from followups.account_risk import KEY_CONTACT_ATTRIBUTE
from followups.business_time import WorkingCalendar, add_business_time
from followups.improvement_status import ImprovementStatus
from followups.models import Case, Notification, ResponseRootCause, RootCause, Team
from followups.models.rules import Priority
from followups.quarters import Quarter
from followups.services import team_create
from followups.services.cases import case_assign, case_contact_log, case_note_add, case_transition
from followups.services.coding import resolution_code_create, root_cause_taxonomy_seed
from followups.services.delivery import customer_updates_deliver
from followups.services.escalation import escalation_sweep
from followups.services.improvements import improvement_create, improvement_move, improvement_priority_override
from followups.services.messages import message_template_create
from followups.services.opening import cases_open_for_responses
from followups.services.rules import routing_rule_create, sla_policy_create
from followups.services.suggestions import suggestion_model_train
from followups.services.updates import improvement_ship
from followups.sla import AT_RISK_SHARE, DEFAULT_TARGETS, team_calendar
from followups.workflow import CaseStatus
from surveys.models import Account, Channel, Customer, Invitation, Survey
from surveys.services import responses_ingest, survey_create
from surveys.services.rollups import rollups_recounted

DEFAULT_PASSWORD = "demo-closedloop-2026"
DEFAULT_SEED = 2026
TICKET_SURVEY = "support-tickets"
RELATIONSHIP_SURVEY = "quarterly-relationship"
CUSTOMERS = 2000
EXTRA_TICKET_RESPONSES = 600  # beyond one per customer; returning customers come back
WAVE_SIZE = 100
WAVES_DAYS_AGO = (345, 255, 165, 75)
TICKET_QUARANTINE_DAYS = 14
BATCH = 500
# The first customers of each account are the ones its account manager talks to.
KEY_CONTACTS = 2
# Every third answered ticket survey had an unanswered one before it (the ticket just before);
# in every fourth account a key contact left last quarter's relationship survey unanswered.
UNANSWERED_EVERY = 3
SILENT_ACCOUNT_EVERY = 4
# Responses this recent are left uncoded: their cases are still being worked.
UNCODED_DAYS = 7
# Of the coded comments, the tenths the manager coded from the review page; agents coded the rest.
MANAGER_CODED_TENTHS = 3


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    role: str
    team: str = ""  # team slug
    lead: bool = False


TEAMS = {"service-desk-emea": "Service Desk EMEA", "service-desk-americas": "Service Desk Americas"}
DEFAULT_TEAM = "service-desk-emea"  # takes the cases no routing rule claims
# Service Desk Americas also covers APAC (follow the sun from the west coast).
TEAM_OF_REGION = {"EMEA": "service-desk-emea", "Americas": "service-desk-americas", "APAC": "service-desk-americas"}
USERS = (
    DemoUser("helen", MANAGER),
    DemoUser("priya", AGENT, "service-desk-emea", lead=True),
    DemoUser("lukas", AGENT, "service-desk-emea"),
    DemoUser("amara", AGENT, "service-desk-emea"),
    DemoUser("diego", AGENT, "service-desk-americas", lead=True),
    DemoUser("emily", AGENT, "service-desk-americas"),
    DemoUser("marcus", AGENT, "service-desk-americas"),
    DemoUser("helpdesk-sync", INTEGRATION),
)

# Comments by theme: what a detractor writes, and the milder version a passive writes.
COMPLAINTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "slow-response": (
        (
            "Waited {days} days before anyone even looked at my ticket.",
            "Far too slow. My request sat in the queue for {days} days.",
            "Response time is terrible, I was waiting over a week for a simple software install.",
            "The fix was fine but waiting {days} days for it was not.",
        ),
        ("Solved in the end, but it took longer than I expected.", "Good help once I got through the phone queue."),
    ),
    "repeat-contact": (
        (
            "Third time I've reported the same problem. They closed {ticket} but nothing was fixed.",
            "The issue came back the next day and I had to reopen the ticket. Twice.",
            "Closed without a fix, so I had to reopen it and explain everything again.",
        ),
        ("Fixed now, although I had to reopen the ticket once.",),
    ),
    "vpn-access": (
        (
            "The VPN drops every twenty minutes and nobody could tell me why.",
            "Couldn't connect to the VPN from home for two days and lost a lot of work.",
            "Still no access to the shared drive after the VPN change.",
            "My access to {app} was removed by mistake and it took ages to restore.",
        ),
        ("VPN works again, but it was a rough week without remote access.",),
    ),
    "password-reset": (
        (
            "Locked out of my account again, and the password reset link never arrived.",
            "Why does a password reset need a phone call and forty minutes?",
            "MFA reset took three days, I couldn't sign in to {app} the whole time.",
        ),
        ("Password reset worked, but the self-service option should not need a call.",),
    ),
    "hardware": (
        (
            "My laptop went away for repair two weeks ago and the loaner can't run {app}.",
            "The printer on the third floor has been broken for a month.",
            "Replacement laptop arrived without the software I need.",
            "Docking station still not working after two visits.",
        ),
        ("New laptop is great, it just took a while to arrive.", "Printer fixed, thanks, though it took a few tries."),
    ),
    "no-updates": (
        (
            "No updates at all. I had to call to find out what was happening with my ticket.",
            "Nobody told me the engineer was coming, so I missed the visit.",
            "The ticket status said in progress for a week without a single comment.",
        ),
        ("OK service, but no updates while I was waiting.",),
    ),
    "agent-knowledge": (
        (
            "The person on the phone didn't know how {app} works and kept escalating.",
            "I got passed between three people before someone understood the problem.",
            "First-line support just read from a script.",
        ),
        ("Friendly, but I was passed between two teams before it was sorted.",),
    ),
    "approval-rules": (
        (
            "Needing a manager approval to install a PDF reader is ridiculous.",
            "Waiting for an approval for admin rights has blocked my work all week.",
        ),
        ("Fine, but the approval step for software requests is slow.",),
    ),
    "self-service-portal": (
        (
            "The self-service portal is confusing, I couldn't find where to log a request.",
            "The portal timed out every time I attached a screenshot.",
        ),
        ("The new portal is better, still a bit hard to find things.",),
    ),
}
# How often each theme is behind a complaint (before the seasonal adjustments in _theme).
THEME_WEIGHTS = {
    "slow-response": 24,
    "repeat-contact": 16,
    "no-updates": 14,
    "vpn-access": 12,
    "hardware": 12,
    "password-reset": 10,
    "agent-knowledge": 7,
    "approval-rules": 3,
    "self-service-portal": 4,
}


@dataclass(frozen=True, slots=True)
class DemoImprovement:
    title: str
    root_causes: tuple[str, ...]
    owner: str
    created_days_ago: int
    moves: tuple[tuple[int, str], ...]  # (days ago, status), oldest first, each by the manager
    target_in_days: int | None  # from the seeding day; negative: already past
    description: str
    customer_message: str
    override: tuple[float, str] | None = None  # a manager's own score and why


# The outer loop under way against the demo's worst themes, one improvement per status but
# shipped (shipping fans out the customer updates, which the demo's shipped improvement shows).
IMPROVEMENTS = (
    DemoImprovement(
        "Morning shift answers every new ticket within the hour",
        ("slow-response",),
        "priya",
        150,
        ((140, ImprovementStatus.PLANNED), (95, ImprovementStatus.IN_PROGRESS)),
        21,
        "Two agents start at seven; new tickets are picked up before the nine o'clock peak.",
        "Every new ticket now gets a first answer from a person within the hour.",
    ),
    DemoImprovement(
        "Check the fix with the customer before closing a ticket",
        ("repeat-contact",),
        "diego",
        120,
        ((80, ImprovementStatus.PLANNED),),
        45,
        "A ticket closes only once the customer confirms the problem is gone, or after three days of silence.",
        "We now check with you that a problem is really solved before we close your ticket.",
    ),
    DemoImprovement(
        "Status e-mails while a ticket waits",
        ("no-updates", "no-time-estimate"),
        "lukas",
        60,
        (),
        None,
        "An automatic update every second working day a ticket waits, with the next step and an estimate.",
        "While your ticket waits, you now hear from us every other working day, with what happens next.",
        override=(2000.0, "The service review in January asks for it first"),
    ),
    DemoImprovement(
        "Replace the VPN client",
        ("vpn-access",),
        "emily",
        200,
        ((185, ImprovementStatus.PLANNED), (110, ImprovementStatus.DECLINED)),
        None,
        "Declined: the network team's new gateway in the spring replaces the client anyway.",
        "",
    ),
)

PRAISE = (
    "{agent} fixed my laptop in ten minutes. Brilliant!",
    "Big thanks to {agent}, who stayed on the call until the VPN worked.",
    "{agent} was patient and explained everything clearly.",
    "Quick, friendly and sorted first time. Thank you {agent}!",
    "{agent} reset my password in two minutes. Great service.",
    "{agent} kept me updated the whole way through, much appreciated.",
)
POSITIVE = (
    "Fast and friendly, as always.",
    "Problem solved the same day. Great job.",
    "Very happy with the support, keep it up.",
    "Sorted before I had finished my coffee.",
    "The service has improved a lot this year.",
)
NEUTRAL = ("Fine.", "Did the job.", "No complaints.")
APPS = ("Outlook", "Teams", "the CRM", "the ERP system", "SharePoint", "the expenses tool")

ACCOUNTS = (
    "Contoso Pharma", "Fabrikam Engineering", "Northwind Traders", "Tailspin Toys", "Woodgrove Bank", "Litware",
    "Proseware", "Wingtip Logistics", "Fourth Coffee", "Trey Research", "Relecloud", "Lamna Healthcare",
    "Alpine Ski House", "Coho Winery", "Wide World Importers", "Humongous Insurance", "Blue Yonder Airlines",
    "Graphic Design Institute", "Adventure Works", "Margie's Travel",
)  # fmt: skip
FIRST_NAMES = (
    "Ana", "Ben", "Carla", "David", "Elif", "Fatima", "George", "Hannah", "Ivan", "Julia", "Kenji", "Laura",
    "Mateo", "Nadia", "Oliver", "Paula", "Rahul", "Sara", "Tomás", "Uma", "Victor", "Wei", "Yasmin", "Zoë",
    "Aisha", "Bruno", "Chloé", "Daniel", "Emma", "Felix", "Grace", "Hiro", "Irene", "James", "Kofi", "Lena",
    "Mei", "Noah", "Olga", "Pedro", "Quentin", "Rosa", "Sven", "Tanvi", "Ulrich", "Valentina", "Will", "Ximena",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Smith", "Müller", "García", "Kowalski", "Nguyen", "Okafor", "Rossi", "Tanaka", "Johnson",
    "Dubois", "Jensen", "Patel", "Kim", "Hernández", "Schmidt", "Brown", "Costa", "Wang", "Novak",
    "Martin", "Andersson", "Haddad", "Ivanova", "López", "Murphy", "Yilmaz", "Chen", "Rahman", "Fischer",
)  # fmt: skip
DEPARTMENTS = ("Finance", "HR", "Sales", "Marketing", "Engineering", "Operations", "Legal", "Customer Success")
PLANS = {"basic": 45, "standard": 38, "gold": 17}
ACCOUNT_PLANS = {"basic": 20, "standard": 50, "gold": 30}
REGIONS = {"EMEA": 45, "Americas": 35, "APAC": 20}
# Expected NPS points each segment adds to the year's baseline. Each plan sits 15 points from the
# next, so the ordering survives the sampling noise of a few hundred answers per plan.
PLAN_EFFECT = {"basic": -15, "standard": 0, "gold": 15}
REGION_EFFECT = {"EMEA": 4, "Americas": 2, "APAC": -14}
TYPE_EFFECT = {"new": 3, "returning": -2}
BASELINE_START, BASELINE_GAIN = 20.0, 16.0  # the year starts near +20 and gains about 16 points
RELATIONSHIP_EFFECT = -6  # asked about the service in general, people remember the bad days
PASSIVE_SHARE = 0.3
TICKET_CHANNELS = {
    Channel.EMAIL: 55,
    Channel.IN_APP: 15,
    Channel.WEB: 12,
    Channel.SMS: 8,
    Channel.PHONE: 5,
    Channel.API: 5,
}
WAVE_CHANNELS = {Channel.EMAIL: 80, Channel.WEB: 15, Channel.SMS: 5}
DETRACTOR_SCORES = {0: 4, 1: 2, 2: 3, 3: 5, 4: 8, 5: 14, 6: 18}
DETRACTOR_MAX = max(DETRACTOR_SCORES)


# The inner loop's past. Each detractor's case is worked through one of these stories: steps
# with the business hours they come after the previous step (or the opening), drawn in a range.
STORIES: dict[str, tuple[int, tuple[tuple[str, float, float], ...]]] = {
    "smooth": (40, (
        ("contact", 0.5, 6), ("note", 0.2, 1), ("in_progress", 0.1, 2), ("resolve", 2, 12), ("close", 8, 30),
    )),
    "quick": (15, (("contact", 0.5, 5), ("resolve", 0.5, 4), ("close", 8, 24))),
    "waiting": (14, (
        ("contact", 0.5, 6), ("in_progress", 0.5, 3), ("wait", 1, 8), ("resume", 8, 24), ("resolve", 2, 10),
        ("close", 8, 24),
    )),
    "late-contact": (10, (("contact", 9, 30), ("in_progress", 0.5, 4), ("resolve", 3, 12), ("close", 8, 30))),
    "late-resolution": (9, (
        ("contact", 0.5, 6), ("in_progress", 0.5, 2), ("note", 5, 20), ("resolve", 45, 80), ("close", 8, 24),
    )),
    "unreachable": (7, (("no_answer", 1, 6), ("no_answer", 8, 16), ("message", 8, 16), ("give_up", 16, 30))),
    "reopened": (5, (
        ("contact", 0.5, 6), ("resolve", 2, 10), ("reopen", 4, 16), ("resolve", 2, 8), ("close", 8, 24),
    )),
}  # fmt: skip
# The last days' detractors whose cases a first visit finds in every open state: their score,
# and their steps in minutes after the opening (at any hour: someone was on call).
LIVE_STORIES = {
    "first-contact-at-risk": 5,
    "resolution-at-risk": 4,
    "escalated-overdue": 2,
    "unowned": 6,
    "waiting": 3,
    "resolved": 5,
    "contacted": 6,
}
LIVE_STEPS = {
    "resolution-at-risk": (("contact", 15), ("in_progress", 40)),
    "unowned": (("unassign", 30),),
    "waiting": (("contact", 20), ("in_progress", 60), ("wait", 180)),
    "resolved": (("contact", 60), ("resolve", 180)),
    "contacted": (("contact", 60),),
}
LIVE_AGES = {
    "unowned": timedelta(hours=2),
    "waiting": timedelta(days=2),
    "resolved": timedelta(days=3),
    "contacted": timedelta(hours=20),
}
LIVE_SEARCH_STEPS = 4 * 24 * 14  # quarter hours in two weeks
# The follow-up loop went live a quarter ago: the detractors since then have their cases (the
# year before is survey history only). Replaying a quarter keeps the seed quick, as does a
# coarser clock than the task cluster's sweep every few minutes: a breach is recorded a little
# later than the cluster would record it.
HISTORY_DAYS = 91
SWEEP_EVERY = timedelta(hours=6)
STATUS_OF_STEP = {
    "in_progress": CaseStatus.IN_PROGRESS,
    "wait": CaseStatus.WAITING_ON_CUSTOMER,
    "resume": CaseStatus.IN_PROGRESS,
    "reopen": CaseStatus.IN_PROGRESS,
    "resolve": CaseStatus.RESOLVED,
    "close": CaseStatus.CLOSED,
    "give_up": CaseStatus.CLOSED,
}
NOTES = {
    "contact": (
        "Called the customer, apologised and agreed on the next steps.",
        "Reached the customer by phone; they walked me through what went wrong.",
        "Emailed the customer to apologise and asked for the details.",
    ),
    "note": (
        "The ticket history shows it went between two queues before anyone picked it up.",
        "Asked second line to look at the underlying fault.",
        "The customer sent screenshots by email.",
    ),
    "in_progress": ("Working on a fix with second line.", "Ordered a replacement; delivery in two days.", ""),
    "wait": (
        "Asked the customer to try the fix and confirm.",
        "Waiting for the customer to say when they can be reached.",
    ),
    "resume": ("The customer replied; back on it.",),
    "reopen": ("The customer wrote back: the problem came back.",),
    "resolve": ("Fixed and confirmed with the customer.", "The customer is happy with the outcome.", ""),
}
UNREACHABLE = "Customer unreachable after three attempts."
RESOLUTION_CODES = (
    ("fixed", "Fixed"),
    ("workaround", "Workaround in place"),
    ("access-restored", "Access restored"),
    ("device-replaced", "Device repaired or replaced"),
    ("explained", "Explained, no fault found"),
    ("apology", "Apologised, process improved"),
)
# What agents start from when they write to a customer from a case (placeholders filled in on the case page).
MESSAGE_TEMPLATES = (
    (
        "Sorry, and what happens next",
        "Your feedback on case {case_number}",
        "Hello {customer_name},\n\nThank you for answering our {survey} survey. I am sorry we let you down. "
        "I am looking into what happened and will come back to you within two working days.\n\nBest regards,",
    ),
    (
        "Could not reach you by phone",
        "We tried to call you about case {case_number}",
        "Hello {customer_name},\n\nI tried to call you about your answer to our {survey} survey. "
        "Reply to this email with a good time to call, or tell me here what went wrong.\n\nBest regards,",
    ),
    (
        "Fixed: checking in",
        "Case {case_number} is resolved",
        "Hello {customer_name},\n\nThe problem you told us about in our {survey} survey is fixed. "
        "If anything is still not right, reply to this email and I will pick it up.\n\nBest regards,",
    ),
)
CODES_OF_THEME = {
    "slow-response": ("apology",),
    "repeat-contact": ("fixed", "workaround"),
    "vpn-access": ("access-restored", "workaround"),
    "password-reset": ("access-restored",),
    "hardware": ("device-replaced", "fixed"),
    "no-updates": ("apology",),
    "agent-knowledge": ("fixed", "explained"),
    "approval-rules": ("explained",),
    "self-service-portal": ("explained", "workaround"),
}
UNTHEMED_CODES = ("fixed", "explained", "apology")
# Routing: each region's team takes its customers (the default team takes the rest); the rule
# of the weeks after the VPN upgrade is kept, switched off.
VPN_RULE_NAME, VPN_RULE_KEYWORDS = "VPN upgrade war room (ended)", ["vpn"]


@dataclass(frozen=True, slots=True)
class DemoAccount:
    external_id: str
    name: str
    domain: str
    plan: str
    region: str


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    external_id: str
    name: str
    email: str
    account: DemoAccount | None
    attributes: dict[str, str]

    def as_item(self) -> dict[str, Any]:
        return {"external_id": self.external_id, "name": self.name, "email": self.email, "attributes": self.attributes}


@dataclass(frozen=True, slots=True)
class DemoResponse:
    item: dict[str, Any]  # a raw ingestion item, as an integration would send it
    theme: str | None  # the root cause the comment is about
    submitted_at: datetime
    story: str | None = None  # how its case is worked (LIVE_STORIES); None: drawn when it opens


@dataclass(frozen=True, slots=True)
class DemoPlan:
    accounts: list[DemoAccount]
    customers: list[DemoCustomer]
    responses: list[DemoResponse]  # oldest first


@dataclass(frozen=True, slots=True)
class DemoSummary:
    accounts: int
    customers: int
    responses: int
    root_cause_codes: int
    cases: int


def demo_plan(*, seed: int, now: datetime) -> DemoPlan:
    """The whole demo year as plain data, the same for the same seed and moment (no database)."""
    rng = random.Random(seed)
    accounts = _accounts(rng)
    customers = _customers(rng, accounts)
    responses = [*_ticket_responses(rng, customers, now), *_wave_responses(rng, customers, now)]
    responses += _live_responses(rng, customers, now, next_ticket=1 + max(_ticket_numbers(responses)))
    responses.sort(key=lambda response: response.submitted_at)
    return DemoPlan(accounts, customers, responses)


def _pick(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace("'", "")


def _accounts(rng: random.Random) -> list[DemoAccount]:
    return [
        DemoAccount(
            f"ACC-{number:03d}",
            name,
            f"{_ascii(name).replace(' ', '')}.example",
            _pick(rng, ACCOUNT_PLANS),
            _pick(rng, REGIONS),
        )
        for number, name in enumerate(ACCOUNTS, start=1)
    ]


def _customers(rng: random.Random, accounts: list[DemoAccount]) -> list[DemoCustomer]:
    """About 40 % of customers work for an account and share its plan, region and mail domain; the
    first KEY_CONTACTS of each account are its key contacts (``key_contact: yes``)."""
    customers: list[DemoCustomer] = []
    emails: set[str] = set()
    members: dict[str, int] = defaultdict(int)
    for number in range(CUSTOMERS):
        account = rng.choice(accounts) if rng.random() < 0.4 else None
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = account.domain if account else rng.choice(("example.com", "example.org", "example.net"))
        local = f"{_ascii(first)}.{_ascii(last)}"
        email, suffix = f"{local}@{domain}", 1
        while email in emails:
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        emails.add(email)
        attributes = {
            "plan": account.plan if account else _pick(rng, PLANS),
            "region": account.region if account else _pick(rng, REGIONS),
            "customer_type": "new" if rng.random() < 0.35 else "returning",
            "department": rng.choice(DEPARTMENTS),
        }
        if account:
            members[account.external_id] += 1
            if members[account.external_id] <= KEY_CONTACTS:
                attributes[KEY_CONTACT_ATTRIBUTE] = "yes"
        customers.append(DemoCustomer(f"C-{10001 + number}", f"{first} {last}", email, account, attributes))
    return customers


def _moment(rng: random.Random, now: datetime, *, days_ago: float) -> datetime:
    """A working-hours moment about ``days_ago`` days before ``now``, never after it."""
    day = (now - timedelta(days=days_ago)).astimezone(UTC).date()
    clock = time(rng.randint(7, 18), rng.randint(0, 59), rng.randint(0, 59), tzinfo=UTC)
    return min(datetime.combine(day, clock), now - timedelta(minutes=rng.randint(5, 300)))


def _ticket_moment(rng: random.Random, now: datetime, taken: list[datetime]) -> datetime:
    """When a ticket was solved: mostly on weekdays, and not within the survey's quarantine of
    the customer's other ticket surveys (a few tries, then any moment)."""
    for _ in range(20):
        moment = _moment(rng, now, days_ago=rng.uniform(0, 364))
        if moment.weekday() >= 5 and rng.random() < 0.8:
            continue
        if all(abs(moment - other) >= timedelta(days=TICKET_QUARANTINE_DAYS) for other in taken):
            break
    taken.append(moment)
    return moment


def _ticket_responses(rng: random.Random, customers: list[DemoCustomer], now: datetime) -> list[DemoResponse]:
    """Everyone answered after at least one solved ticket; returning customers after several."""
    returning = [c for c in customers if c.attributes["customer_type"] == "returning"]
    askers = [*customers, *rng.choices(returning, k=EXTRA_TICKET_RESPONSES)]
    taken: dict[str, list[datetime]] = defaultdict(list)
    solved = sorted(((_ticket_moment(rng, now, taken[c.external_id]), c) for c in askers), key=lambda pair: pair[0])
    ticket = 18000
    responses = []
    for moment, customer in solved:
        ticket += rng.randint(1, 6)  # not every solved ticket gets an answer
        # A few answers come from the web form, which knows no ticket.
        ticket_ref = f"INC-{ticket}" if rng.random() < 0.9 else ""
        fields = {"ticket_ref": ticket_ref, "external_id": f"hd-rating-{ticket}"} if ticket_ref else {}
        channel = _pick(rng, TICKET_CHANNELS)
        responses.append(
            _response(rng, customer=customer, survey=TICKET_SURVEY, moment=moment, now=now, channel=channel, **fields)
        )
    return responses


def _wave_responses(rng: random.Random, customers: list[DemoCustomer], now: datetime) -> list[DemoResponse]:
    """Each quarter a sample of customers answers the relationship survey, most in the first days."""
    responses = []
    for days_ago in WAVES_DAYS_AGO:
        sent = now - timedelta(days=days_ago)
        wave = f"{sent.year}Q{(sent.month - 1) // 3 + 1}"
        for customer in rng.sample(customers, WAVE_SIZE):
            moment = _moment(rng, now, days_ago=days_ago - min(rng.expovariate(1 / 3), 14))
            response = _response(
                rng,
                customer=customer,
                survey=RELATIONSHIP_SURVEY,
                moment=moment,
                now=now,
                channel=_pick(rng, WAVE_CHANNELS),
                external_id=f"qr-{wave}-{customer.external_id}",
            )
            responses.append(response)
    return responses


def _live_responses(
    rng: random.Random, customers: list[DemoCustomer], now: datetime, *, next_ticket: int
) -> list[DemoResponse]:
    """The detractors of the last days whose cases are caught, right now, in each open state."""
    responses = []
    for number, (story, score) in enumerate(LIVE_STORIES.items(), start=next_ticket):
        customer = rng.choice(customers)
        moment = _live_moment(story, now)
        comment, theme = _comment(rng, score, customer, 0, f"INC-{number}")
        item = {
            "survey": TICKET_SURVEY,
            "customer": customer.as_item(),
            "score": score,
            "comment": comment,
            "channel": Channel.EMAIL,
            "submitted_at": moment.isoformat(),
            "ticket_ref": f"INC-{number}",
            "external_id": f"hd-rating-{number}",
        }
        responses.append(DemoResponse(item, theme, moment, story))
    return responses


def _ticket_numbers(responses: Sequence[DemoResponse]) -> list[int]:
    return [int(r.item["ticket_ref"].removeprefix("INC-")) for r in responses if r.item.get("ticket_ref")]


def _live_moment(story: str, now: datetime) -> datetime:
    """When the response of a live story came in, so that its case is in that state now."""
    calendar = team_calendar(Team())  # the demo teams keep the default business calendar
    targets = DEFAULT_TARGETS[Priority.NORMAL]
    if story == "first-contact-at-risk":
        return _opened_at_risk(now, calendar, targets.first_contact)
    if story == "resolution-at-risk":
        return _opened_at_risk(now, calendar, targets.resolution)
    if story == "escalated-overdue":
        # Missed its first contact long enough ago for the sweep to have handed it to the lead.
        moment = now - timedelta(hours=1)
        hot = DEFAULT_TARGETS[Priority.HOT]
        while add_business_time(moment, hot.first_contact, calendar) > now - hot.reassign_after - timedelta(hours=1):
            moment -= timedelta(hours=1)
        return moment
    return now - LIVE_AGES[story]


def _opened_at_risk(now: datetime, calendar: WorkingCalendar, target: timedelta) -> datetime:
    """The latest opening (in quarter hours back from ``now``) that puts ``now`` well inside the
    at-risk stretch before the ``target`` deadline: at least 15 minutes in, an hour before the end."""
    moment = now
    for _ in range(LIVE_SEARCH_STEPS):
        moment -= timedelta(minutes=15)
        at_risk_from = add_business_time(moment, target * (1 - AT_RISK_SHARE), calendar)
        due = add_business_time(moment, target, calendar)
        if at_risk_from <= now - timedelta(minutes=15) and due >= now + timedelta(hours=1):
            return moment
    raise ValueError("the demo calendar has no at-risk stretch around now")


def _response(
    rng: random.Random,
    *,
    customer: DemoCustomer,
    survey: str,
    moment: datetime,
    now: datetime,
    channel: str,
    **fields: str,
) -> DemoResponse:
    """One answer whose odds follow the year's trend and the customer's segments."""
    age = (now - moment).total_seconds() / 86400
    expected = BASELINE_START + BASELINE_GAIN * (1 - age / 365)
    expected += sum(
        effect[customer.attributes[name]]
        for name, effect in (("plan", PLAN_EFFECT), ("region", REGION_EFFECT), ("customer_type", TYPE_EFFECT))
    )
    if survey == RELATIONSHIP_SURVEY:
        expected += RELATIONSHIP_EFFECT
    score = _score(rng, expected)
    comment, theme = _comment(rng, score, customer, age, fields.get("ticket_ref") or "my ticket")
    item = {
        "survey": survey,
        "customer": customer.as_item(),
        "score": score,
        "comment": comment,
        "channel": channel,
        "submitted_at": moment.isoformat(),
        **fields,
    }
    return DemoResponse(item, theme, moment)


def _score(rng: random.Random, expected_nps: float) -> int:
    """A score drawn so that, on average, the NPS is ``expected_nps`` with 30 % passives."""
    nps = max(-0.65, min(0.65, expected_nps / 100))
    promoter = (1 - PASSIVE_SHARE + nps) / 2
    draw = rng.random()
    if draw < promoter:
        return 10 if rng.random() < 0.55 else 9
    if draw < promoter + PASSIVE_SHARE:
        return 8 if rng.random() < 0.55 else 7
    return _pick(rng, DETRACTOR_SCORES)


def _comment(rng: random.Random, score: int, customer: DemoCustomer, age: float, ticket: str) -> tuple[str, str | None]:
    """What the customer wrote and the theme it is about; detractors write most often."""
    details = {"days": rng.randint(3, 12), "app": rng.choice(APPS), "ticket": ticket}
    if score <= 6:
        if rng.random() >= 0.8:
            return "", None
        theme = _theme(rng, age)
        return rng.choice(COMPLAINTS[theme][0]).format(**details), theme
    if score <= 8:
        draw = rng.random()
        if draw < 0.35:
            theme = _theme(rng, age)
            return rng.choice(COMPLAINTS[theme][1]).format(**details), theme
        return (rng.choice(NEUTRAL), None) if draw < 0.5 else ("", None)
    draw = rng.random()
    if draw < 0.25:
        agents = [u for u in USERS if u.team == TEAM_OF_REGION[customer.attributes["region"]]]
        return rng.choice(PRAISE).format(agent=rng.choice(agents).username.title()), None
    return (rng.choice(POSITIVE), None) if draw < 0.45 else ("", None)


def _theme(rng: random.Random, age: float) -> str:
    weights: dict[str, float] = dict(THEME_WEIGHTS)
    weights["slow-response"] *= 0.5 + age / 365  # the queue got faster over the year
    if 120 <= age <= 180:
        weights["vpn-access"] *= 4  # the weeks after the VPN client upgrade
    return _pick(rng, weights)


def demo_present() -> bool:
    """Whether the demo was already built (its ticket survey exists)."""
    return Survey.objects.filter(slug=TICKET_SURVEY).exists()


@transaction.atomic
def demo_seed(*, password: str, seed: int = DEFAULT_SEED, now: datetime | None = None) -> DemoSummary | None:
    """Build the demo year, or do nothing (None) when it is already present.

    One transaction: a failed run leaves nothing behind, so running again starts clean. Raises
    django's ValidationError when the password fails the validators or a demo username is taken.
    """
    if demo_present():
        return None
    now = now or timezone.now()
    plan = demo_plan(seed=seed, now=now)
    _create_people(password)
    _create_surveys()
    root_causes = _create_root_causes()
    _create_resolution_codes()
    _create_message_templates()
    _create_sla_policies()
    response_ids = _ingest(plan.responses, now)
    _create_accounts(plan)
    _create_invitations(plan, response_ids, now)
    _create_routing_rules()
    codes = _code_root_causes(plan.responses, response_ids, root_causes, now)
    cases = _replay_the_loop(plan.responses, response_ids, now, random.Random(seed))
    _create_improvements(now)
    _ship_the_vpn_fix(now)
    suggestion_model_train(now=now)  # the review page suggests from the first visit
    return DemoSummary(len(plan.accounts), len(plan.customers), len(response_ids), codes, cases)


def _create_improvements(now: datetime) -> None:
    """The improvements of IMPROVEMENTS, each created and moved on its days, by the demo's manager."""
    users = {user.username: user for user in get_user_model().objects.all()}
    manager = next(users[u.username] for u in USERS if u.role == MANAGER)
    causes = RootCause.objects.in_bulk([slug for i in IMPROVEMENTS for slug in i.root_causes], field_name="slug")
    for plan in IMPROVEMENTS:
        improvement = improvement_create(
            title=plan.title,
            actor=manager,
            root_causes=[causes[slug] for slug in plan.root_causes],
            owner=users[plan.owner],
            target_date=None if plan.target_in_days is None else (now + timedelta(days=plan.target_in_days)).date(),
            description=plan.description,
            customer_message=plan.customer_message,
            now=now - timedelta(days=plan.created_days_ago),
        )
        for days_ago, status in plan.moves:
            improvement_move(
                improvement=improvement, to_status=status, actor=manager, now=now - timedelta(days=days_ago)
            )
        if plan.override:
            score, reason = plan.override
            improvement_priority_override(improvement=improvement, score=score, reason=reason, now=now)


# The outer loop closed once: the VPN complaints of the client upgrade led to a shipped fix, and
# every customer who raised them was told.
SHIPPED_IMPROVEMENT = {
    "title": "VPN client rolled back and a second gateway added",
    "description": "The spring VPN client upgrade dropped connections every hour. We rolled it back, "
    "added a second gateway and now test each client release on a pilot group first.",
    "customer_message": "You told us the VPN kept dropping. We rolled the faulty client update back and "
    "added a second gateway, so connections now hold all day, and new versions reach a pilot group first.",
    "root_cause": "vpn-access",
}
# The demo's customers are fictional: their updates are recorded as sent without leaving the machine.
DEMO_EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


def _ship_the_vpn_fix(now: datetime) -> None:
    """Ship one improvement through the product's services and deliver its updates."""
    manager = get_user_model().objects.get(username=next(u.username for u in USERS if u.role == MANAGER))
    started = now - timedelta(days=60)
    improvement = improvement_create(
        title=SHIPPED_IMPROVEMENT["title"],
        actor=manager,
        root_causes=[RootCause.objects.get(slug=SHIPPED_IMPROVEMENT["root_cause"])],
        owner=manager,
        description=SHIPPED_IMPROVEMENT["description"],
        customer_message=SHIPPED_IMPROVEMENT["customer_message"],
        now=started,
    )
    improvement_move(improvement=improvement, to_status=ImprovementStatus.IN_PROGRESS, actor=manager, now=started)
    shipped_at = now - timedelta(days=2)
    improvement_ship(improvement=improvement, actor=manager, now=shipped_at)
    customer_updates_deliver(now=shipped_at, backend=DEMO_EMAIL_BACKEND)


def _create_people(password: str) -> None:
    for user in USERS:
        user_create(username=user.username, password=password, email=f"{user.username}@example.com", role=user.role)
    for slug, name in TEAMS.items():
        members = [u for u in USERS if u.team == slug]
        lead = next(u.username for u in members if u.lead)
        team_create(
            slug=slug, name=name, members=[u.username for u in members], lead=lead, default=slug == DEFAULT_TEAM
        )


def _create_surveys() -> None:
    survey_create(
        slug=TICKET_SURVEY,
        name="Support ticket follow-up",
        kind=Survey.Kind.TRANSACTIONAL,
        quarantine_days=TICKET_QUARANTINE_DAYS,
    )
    survey_create(
        slug=RELATIONSHIP_SURVEY,
        name="Quarterly relationship survey",
        kind=Survey.Kind.RELATIONSHIP,
        question="How likely are you to recommend our IT service desk to a friend or colleague?",
        quarantine_days=80,
    )


def _create_root_causes() -> dict[str, int]:
    """The default taxonomy (put back if the database was emptied); the demo codes with its causes.

    Every theme of the demo's comments is a cause of the default taxonomy, whose keywords its
    comments contain, so keyword suggestions work on the demo too.
    """
    root_cause_taxonomy_seed()
    ids = dict(RootCause.objects.filter(slug__in=COMPLAINTS).values_list("slug", "pk"))
    missing = sorted(set(COMPLAINTS) - set(ids))
    if missing:
        raise ValueError(f"the demo's themes are not in the default taxonomy: {missing}")
    return ids


def _ingest(responses: Sequence[DemoResponse], now: datetime) -> list[int]:
    """Store the responses in API-sized batches; return their ids in the same order."""
    ids: list[int] = []
    for start in range(0, len(responses), BATCH):
        result = responses_ingest(items=[r.item for r in responses[start : start + BATCH]], now=now)
        if result.rejected:
            raise ValueError(f"the demo plan has invalid responses: {result.rejected[:3]}")
        # Every item is new or a duplicate of a stored one: each outcome names its response.
        ids.extend(outcome.response_id for outcome in result.outcomes if outcome.response_id is not None)
    return ids


def _create_resolution_codes() -> None:
    for position, (slug, name) in enumerate(RESOLUTION_CODES, start=1):
        resolution_code_create(slug=slug, name=name, position=position * 10)


def _create_message_templates() -> None:
    for name, subject, body in MESSAGE_TEMPLATES:
        message_template_create(name=name, subject=subject, body=body)


def _create_sla_policies() -> None:
    """The built-in targets written out as policies, so managers see them and have one to change."""
    for priority, targets in DEFAULT_TARGETS.items():
        sla_policy_create(
            name=f"{priority.capitalize()} cases",
            priority=priority,
            first_contact_hours=Decimal(targets.first_contact.total_seconds()) / 3600,
            resolution_hours=Decimal(targets.resolution.total_seconds()) / 3600,
            reassign_after_hours=Decimal(targets.reassign_after.total_seconds()) / 3600,
        )


def _create_routing_rules() -> None:
    """The rules a manager would enter on the routing page, through the same service."""
    teams = {team.slug: team for team in Team.objects.all()}
    regions = [(region, team) for region, team in TEAM_OF_REGION.items() if team != DEFAULT_TEAM]
    for position, (region, team) in enumerate(regions, start=1):
        routing_rule_create(
            position=position * 10,
            name=f"{region} customers to {TEAMS[team]}",
            attribute_name="region",
            attribute_value=region,
            team=teams[team],
        )
    routing_rule_create(
        position=5, name=VPN_RULE_NAME, keywords=VPN_RULE_KEYWORDS, team=teams[DEFAULT_TEAM], active=False
    )


def _create_accounts(plan: DemoPlan) -> None:
    accounts = Account.objects.bulk_create([Account(external_id=a.external_id, name=a.name) for a in plan.accounts])
    # Ingestion knows no accounts; one UPDATE per account links its people.
    members: dict[str, list[str]] = defaultdict(list)
    for customer in plan.customers:
        if customer.account:
            members[customer.account.external_id].append(customer.external_id)
    for account in accounts:
        Customer.objects.filter(external_id__in=members[account.external_id]).update(account=account)


def _create_invitations(plan: DemoPlan, response_ids: list[int], now: datetime) -> None:
    """The invitations behind the answers, naming who handled each ticket (so praise reaches them),
    some that went unanswered (response rates below 100 %), and silent key contacts."""
    surveys = dict(Survey.objects.values_list("slug", "pk"))
    customers = dict(Customer.objects.values_list("external_id", "pk"))
    used = set(_ticket_numbers(plan.responses))
    invitations, answered = [], set()
    for index, (response, response_id) in enumerate(zip(plan.responses, response_ids, strict=True)):
        if response_id in answered:  # a duplicate the ingestion recognised: one invitation per response
            continue
        answered.add(response_id)
        item, at = response.item, response.submitted_at
        customer = customers[item["customer"]["external_id"]]
        ticket = item.get("ticket_ref", "")
        # Only the help desk's tickets name who handled them (the web form and the waves do not).
        agent, team = _handled_by(response, ticket) if ticket else ("", "")
        invitations.append(
            _invitation(surveys[item["survey"]], customer, at - timedelta(hours=1), ticket, agent, team, answered=at)
        )
        invitations[-1].response_id = response_id
        number = int(ticket.removeprefix("INC-")) if ticket else 0
        if ticket and index % UNANSWERED_EVERY == 0 and number - 1 not in used:
            earlier = at - timedelta(days=2)
            invitations.append(_invitation(surveys[TICKET_SURVEY], customer, earlier, f"INC-{number - 1}", agent, team))
    invitations.extend(_silent_key_contacts(plan, surveys[RELATIONSHIP_SURVEY], customers, now))
    # The answers were counted as they were ingested, before their tickets named a team.
    with rollups_recounted(response_ids=sorted(answered)):
        Invitation.objects.bulk_create(invitations, batch_size=BATCH)


def _handled_by(response: DemoResponse, ticket: str) -> tuple[str, str]:
    """The agent a praise names, else one of the region's team by ticket number; and their team."""
    team = TEAM_OF_REGION[response.item["customer"]["attributes"]["region"]]
    agents = [user.username for user in USERS if user.team == team]
    named = [username for username in agents if username.title() in response.item["comment"]]
    return (named or [agents[int(ticket.removeprefix("INC-")) % len(agents)]])[0], team


def _invitation(
    survey: int, customer: int, sent: datetime, ticket: str, agent: str, team: str, *, answered: datetime | None = None
) -> Invitation:
    return Invitation(
        survey_id=survey,
        customer_id=customer,
        channel=Channel.EMAIL,
        status=Invitation.Status.ANSWERED if answered else Invitation.Status.SENT,
        ticket_ref=ticket,
        agent=agent,
        team=team,
        send_at=sent,
        sent_at=sent,
        answered_at=answered,
        next_attempt_at=sent,
        created_at=sent,
    )


def _silent_key_contacts(plan: DemoPlan, survey: int, customers: dict[str, int], now: datetime) -> list[Invitation]:
    """A key contact of every fourth account asked in the middle of the last complete quarter, silent since."""
    quarter = Quarter.containing(timezone.localdate(now)).previous()
    sent = datetime.combine(quarter.first_day + timedelta(days=45), time(9), tzinfo=UTC)
    silent = {account.external_id for account in plan.accounts[::SILENT_ACCOUNT_EVERY]}
    firsts: dict[str, str] = {}
    for customer in plan.customers:
        if customer.account and customer.account.external_id in silent:
            firsts.setdefault(customer.account.external_id, customer.external_id)
    return [_invitation(survey, customers[external_id], sent, "", "", "") for external_id in firsts.values()]


def _code_root_causes(
    responses: Sequence[DemoResponse], response_ids: Sequence[int], root_causes: dict[str, int], now: datetime
) -> int:
    """Code the themed comments older than a week: mostly by the agents of the customer's region,
    the rest by the manager reviewing comments no case was opened for."""
    coded_before = now - timedelta(days=UNCODED_DAYS)
    users = dict(
        get_user_model().objects.filter(username__in=[u.username for u in USERS]).values_list("username", "pk")
    )
    manager = next(users[u.username] for u in USERS if u.role == MANAGER)
    agents = {team: [users[u.username] for u in USERS if u.team == team] for team in TEAMS}
    codes = []
    for n, (response, response_id) in enumerate(zip(responses, response_ids, strict=True)):
        if not (response.theme and response.submitted_at < coded_before):
            continue
        by_manager = n % 10 < MANAGER_CODED_TENTHS
        team = agents[TEAM_OF_REGION[response.item["customer"]["attributes"]["region"]]]
        codes.append(
            ResponseRootCause(
                response_id=response_id,
                root_cause_id=root_causes[response.theme],
                source=ResponseRootCause.Source.MANAGER if by_manager else ResponseRootCause.Source.AGENT,
                coded_by_id=manager if by_manager else team[n % len(team)],
            )
        )
    ResponseRootCause.objects.bulk_create(codes, batch_size=1000)
    return len(codes)


@dataclass(frozen=True, slots=True)
class _Step:
    """One thing that happens in the replayed quarter: a case opens, or someone works one."""

    action: str  # "open" or a story step
    target: int  # the response to open a case for, else the case
    theme: str | None
    story: str | None = None


def _replay_the_loop(
    responses: Sequence[DemoResponse], response_ids: Sequence[int], now: datetime, rng: random.Random
) -> int:
    """Replay the inner loop's last HISTORY_DAYS through the product's services, in time order;
    return the cases opened.

    Each detractor's case opens when the response came in, its owner works it through a story,
    and the escalation sweep runs every SWEEP_EVERY in between, as the task cluster would have.
    Steps due after ``now`` have not happened yet: the last days' cases are still open.
    """
    live_since, sequence = now - timedelta(days=HISTORY_DAYS), count()
    agenda = [
        (response.submitted_at, next(sequence), _Step("open", response_id, response.theme, response.story))
        for response, response_id in zip(responses, response_ids, strict=True)
        if response.item["score"] <= DETRACTOR_MAX and response.submitted_at >= live_since
    ]
    heapq.heapify(agenda)
    sweep_at, opened = (agenda[0][0] if agenda else now), []
    while agenda and agenda[0][0] <= now:
        when, _, step = heapq.heappop(agenda)
        while sweep_at <= when:
            escalation_sweep(now=sweep_at)
            sweep_at += SWEEP_EVERY
        if step.action != "open":
            _work(rng, step, when)
            continue
        for case in cases_open_for_responses(response_ids=[step.target], now=when):
            opened.append(case.pk)
            for at, action in _story(rng, case, step.story, when):
                heapq.heappush(agenda, (at, next(sequence), _Step(action, case.pk, step.theme)))
    escalation_sweep(now=now)
    # The services queued the staff emails of a whole quarter; they belong to the past, so they
    # are dropped rather than delivered to a new user's inbox (or console) all at once.
    Notification.objects.filter(case__in=opened, created_at__lt=now).delete()
    return len(opened)


def _story(rng: random.Random, case: Case, live: str | None, opened: datetime) -> list[tuple[datetime, str]]:
    """When each step of the case's story happens: a live story's fixed minutes, else a drawn
    story in the team's business hours."""
    if live:
        return [(opened + timedelta(minutes=minutes), action) for action, minutes in LIVE_STEPS.get(live, ())]
    _, steps = STORIES[_pick(rng, {name: weight for name, (weight, _) in STORIES.items()})]
    calendar = team_calendar(case.team)
    moments, at = [], opened
    for action, fewest, most in steps:
        at = add_business_time(at, timedelta(hours=rng.uniform(fewest, most)), calendar)
        moments.append((at, action))
    return moments


def _work(rng: random.Random, step: _Step, when: datetime) -> None:
    """One step of a story, taken by the case's owner at that moment (the lead after escalation)."""
    case = Case.objects.select_related("team__lead", "owner").get(pk=step.target)
    actor = case.owner or case.team.lead
    if actor is None:
        raise ValueError(f"{case} has neither an owner nor a team lead to work it")
    note = rng.choice(NOTES.get(step.action, ("",)))
    if step.action == "contact":
        channel = rng.choice(("phone", "email"))
        case_contact_log(case=case, actor=actor, channel=channel, outcome="reached", note=note, now=when)
    elif step.action in ("no_answer", "message"):
        outcome = "left_message" if step.action == "message" else "no_answer"
        case_contact_log(case=case, actor=actor, channel="phone", outcome=outcome, now=when)
    elif step.action == "note":
        case_note_add(case=case, actor=actor, text=note, now=when)
    elif step.action == "unassign":
        case_assign(case=case, owner=None, actor=case.team.lead, now=when)
    else:
        code = rng.choice(CODES_OF_THEME.get(step.theme or "", UNTHEMED_CODES)) if step.action == "resolve" else None
        reason = UNREACHABLE if step.action == "give_up" else ""
        status = STATUS_OF_STEP[step.action]
        case_transition(
            case=case, to_status=status, actor=actor, note=note, reason=reason, resolution_code=code, now=when
        )


def demo_password_matches(*, password: str) -> bool:
    """Whether the demo's logins still use ``password`` (checked on the manager's account)."""
    manager = get_user_model().objects.filter(username=USERS[0].username).first()
    return manager is not None and manager.check_password(password)
