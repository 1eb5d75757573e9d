"""The export files of the tools teams leave, recognised from their headers: pure, no database.

Each shape lists the header names (normalised as ``normalise`` writes them) its tool's response
export uses for each field, the columns that identify the tool, and the columns that are the
tool's own bookkeeping. In a recognised file every other column is a property or hidden field of
the person and becomes a segment attribute. docs/imports.md gives each tool's columns and the
format version followed.

The NPS column is found by its header even when the header is the question itself ("How likely
are you to recommend us to a friend?"); a file whose only score column is on another scale (CSAT
1-5, stars, thumbs) is refused, never converted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# Fields a column can fill beyond those of an ingestion item: the two halves of a name, joined
# into customer.name, and the old tool's tags.
FIRST_NAME = "customer.first_name"
LAST_NAME = "customer.last_name"
TAGS = "tags"

_NPS_QUESTION = re.compile(r"\b(how\s+likely|likel(?:y|ihood)\b.*\brecommend|nps|net\s+promoter)\b")
_OTHER_SCALE = re.compile(r"\b(csat|satisfaction|satisfied|thumbs?|stars?|ces|effort|1\s*(?:-|to)\s*5)\b")


def normalise(name: str) -> str:
    """A header name as shapes write them: "Customer ID" -> "customer_id"."""
    return re.sub(r"[\s-]+", "_", name.strip().lower())


@dataclass(frozen=True, slots=True)
class Shape:
    """One tool's response export."""

    tool: str
    version: str
    # All of these (normalised) must be headers of the file for it to be this tool's.
    signature: frozenset[str]
    columns: dict[str, tuple[str, ...]]
    # The tool's own columns that are neither a field nor a property of the person.
    ignored: frozenset[str] = frozenset()
    # Columns whose name ends so are the tool's derived values (Qualtrics' Q1_NPS_GROUP).
    ignored_suffixes: tuple[str, ...] = ()


SHAPES: tuple[Shape, ...] = (
    Shape(
        tool="Delighted",
        version="Responses CSV export (web dashboard, 2024 layout)",
        signature=frozenset({"response_id", "score", "created_at"}),
        columns={
            "external_id": ("response_id",),
            "score": ("score",),
            "comment": ("comment",),
            "customer.email": ("email", "person_email"),
            "customer.name": ("name", "person_name"),
            "customer.external_id": ("person_id",),
            "submitted_at": ("created_at", "response_time"),
            TAGS: ("tags",),
        },
        ignored=frozenset({"updated_at", "permalink", "notes", "survey_type", "channel", "delighted_source"}),
    ),
    Shape(
        tool="SurveyMonkey",
        version="All responses data, CSV (condensed columns, actual answer text)",
        signature=frozenset({"respondent_id", "collector_id"}),
        columns={
            "external_id": ("respondent_id",),
            "customer.email": ("email_address", "email"),
            FIRST_NAME: ("first_name",),
            LAST_NAME: ("last_name",),
            "submitted_at": ("end_date", "start_date"),
        },
        ignored=frozenset({"collector_id", "start_date", "end_date", "ip_address"}),
    ),
    Shape(
        tool="Qualtrics",
        version="Data & Analysis export, CSV with choice text (three header rows)",
        signature=frozenset({"responseid", "recordeddate"}),
        columns={
            "external_id": ("responseid",),
            "customer.email": ("recipientemail",),
            FIRST_NAME: ("recipientfirstname",),
            LAST_NAME: ("recipientlastname",),
            "customer.external_id": ("externalreference", "externaldatareference"),
            "submitted_at": ("recordeddate", "enddate"),
        },
        ignored=frozenset(
            {
                "startdate",
                "enddate",
                "status",
                "ipaddress",
                "progress",
                "duration_(in_seconds)",
                "finished",
                "locationlatitude",
                "locationlongitude",
                "distributionchannel",
                "userlanguage",
            }
        ),
        ignored_suffixes=("_nps_group",),
    ),
    Shape(
        tool="Typeform",
        version="Results CSV download (responses with hidden fields)",
        signature=frozenset({"#", "submit_date_(utc)"}),
        columns={
            "external_id": ("#", "response_id"),
            "customer.email": ("email",),
            "customer.name": ("name",),
            "customer.external_id": ("customer_id", "user_id"),
            "submitted_at": ("submit_date_(utc)",),
            TAGS: ("tags",),
        },
        ignored=frozenset({"start_date_(utc)", "stage_date_(utc)", "network_id", "ending"}),
    ),
    Shape(
        tool="Retently",
        version="Responses export, CSV (feedback and customer properties)",
        signature=frozenset({"feedback", "score", "campaign"}),
        columns={
            "external_id": ("response_id", "id"),
            "score": ("score",),
            "comment": ("feedback",),
            "customer.email": ("email", "customer_email"),
            FIRST_NAME: ("first_name",),
            LAST_NAME: ("last_name",),
            "customer.external_id": ("customer_id",),
            "submitted_at": ("response_date", "date", "created_date"),
            TAGS: ("tags", "topics"),
        },
        ignored=frozenset({"campaign", "metric", "channel", "status", "sentiment"}),
    ),
    Shape(
        tool="Help desk satisfaction export",
        version="Ticket survey ratings, CSV (Zendesk/Freshdesk style columns)",
        signature=frozenset({"ticket_id", "requester_email"}),
        columns={
            "ticket_ref": ("ticket_id",),
            "external_id": ("survey_response_id", "rating_id", "response_id"),
            "score": ("score", "rating", "nps_score"),
            "comment": ("comment", "rating_comment"),
            "customer.email": ("requester_email",),
            "customer.name": ("requester", "requester_name"),
            "customer.external_id": ("requester_id", "requester_external_id"),
            "submitted_at": ("rated_at", "created_at", "responded_at"),
            TAGS: ("tags", "ticket_tags"),
        },
        ignored=frozenset({"subject", "assignee", "group", "status", "updated_at", "solved_at", "satisfaction"}),
    ),
)


@dataclass(frozen=True, slots=True)
class Recognition:
    """What the headers say: the tool, the column of each field, and the attribute columns."""

    tool: str | None = None
    version: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    attributes: tuple[str, ...] = ()
    # Why the file cannot be imported, when its scores are on another scale.
    refused: str = ""


def shape_of(header: Sequence[str]) -> Shape | None:
    """The tool whose export has these headers, if any."""
    names = {normalise(name) for name in header if name}
    return next((shape for shape in SHAPES if shape.signature <= names), None)


def is_nps_question(name: str) -> bool:
    """Whether a header asks the NPS question or names its score."""
    return bool(_NPS_QUESTION.search(name.lower()))


def is_other_scale(name: str) -> bool:
    """Whether a header names a score on a scale other than NPS's 0-10."""
    return bool(_OTHER_SCALE.search(name.lower().replace("_", " ")))


def recognise(header: Sequence[str]) -> Recognition:
    """The fields a known tool's export fills from these headers; empty when no tool matches.

    Files of no known tool are left to the generic header names (``csv_import.FIELDS``), except
    for the NPS question, found in any file.
    """
    shape = shape_of(header)
    named = [name for name in header if name]
    by_normal: dict[str, str] = {}
    for name in named:
        by_normal.setdefault(normalise(name), name)
    columns: dict[str, str] = {}
    if shape is not None:
        for target, aliases in shape.columns.items():
            found = next((by_normal[alias] for alias in aliases if alias in by_normal), None)
            if found is not None:
                columns[target] = found
    if "score" not in columns:
        question = _nps_column(named)
        if question is not None:
            columns["score"] = question
    if shape is None:
        return Recognition(columns=columns, refused=_refusal(named, columns))
    used = set(columns.values())
    attributes = tuple(
        name
        for name in named
        if name not in used
        and normalise(name) not in shape.ignored
        and not normalise(name).endswith(shape.ignored_suffixes)
        and not is_other_scale(name)
        and not _is_question(name)
    )
    return Recognition(
        tool=shape.tool,
        version=shape.version,
        columns=columns,
        attributes=attributes,
        refused=_refusal(named, columns),
    )


def _nps_column(named: Sequence[str]) -> str | None:
    question = next((name for name in named if is_nps_question(name) and not is_other_scale(name)), None)
    if question is not None:
        return question
    # Qualtrics names its question columns Q1, Q2...; the NPS one has a Q1_NPS_GROUP beside it.
    groups = {normalise(name)[: -len("_nps_group")] for name in named if normalise(name).endswith("_nps_group")}
    return next((name for name in named if normalise(name) in groups), None)


def _is_question(name: str) -> bool:
    # Answers to other questions are not properties of the person: a long header ending in "?".
    return name.rstrip().endswith("?") or bool(re.fullmatch(r"q[0-9]+(_[0-9a-z]+)*", normalise(name)))


def _refusal(named: Sequence[str], columns: dict[str, str]) -> str:
    if "score" in columns or any(normalise(name) in ("score", "nps_score") for name in named):
        return ""
    other = [name for name in named if is_other_scale(name)]
    if not other:
        return ""
    return (
        f"The column {other[0][:60]!r} holds scores on another scale (CSAT, stars or thumbs): "
        "only NPS scores from 0 to 10 are imported, and other scales are not converted."
    )
