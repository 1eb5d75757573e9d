"""Recognising the export files of the tools teams leave from their headers: pure, no database."""

from __future__ import annotations

import csv
import io

import pytest

from surveys.export_shapes import SHAPES, Recognition, is_nps_question, is_other_scale, normalise, recognise, shape_of
from tests.surveys import export_files


def header_of(text: str) -> list[str]:
    first = text.splitlines()[0]
    delimiter = max(",;\t", key=first.count)
    return next(csv.reader(io.StringIO(first), delimiter=delimiter))


@pytest.mark.parametrize(
    ("text", "tool", "expected", "attributes"),
    [
        (
            export_files.DELIGHTED,
            "Delighted",
            {
                "external_id": "Response ID",
                "score": "Score",
                "comment": "Comment",
                "customer.email": "Email",
                "customer.name": "Name",
                "submitted_at": "Created At",
                "tags": "Tags",
            },
            ("Plan", "Region"),
        ),
        (
            export_files.SURVEYMONKEY,
            "SurveyMonkey",
            {
                "external_id": "Respondent ID",
                "customer.email": "Email Address",
                "customer.first_name": "First Name",
                "customer.last_name": "Last Name",
                "submitted_at": "End Date",
                "score": "How likely is it that you would recommend us to a friend or colleague?",
            },
            ("Custom Data 1",),
        ),
        (
            export_files.QUALTRICS,
            "Qualtrics",
            {
                "external_id": "ResponseId",
                "customer.email": "RecipientEmail",
                "customer.first_name": "RecipientFirstName",
                "customer.last_name": "RecipientLastName",
                "customer.external_id": "ExternalReference",
                "submitted_at": "RecordedDate",
                "score": "Q1",
            },
            ("Department",),
        ),
        (
            export_files.TYPEFORM,
            "Typeform",
            {
                "external_id": "#",
                "customer.email": "email",
                "customer.external_id": "user_id",
                "submitted_at": "Submit Date (UTC)",
                "tags": "Tags",
                "score": "How likely are you to recommend our help desk to a friend?",
            },
            ("plan",),
        ),
        (
            export_files.RETENTLY,
            "Retently",
            {
                "external_id": "Response ID",
                "score": "Score",
                "comment": "Feedback",
                "customer.email": "Email",
                "customer.first_name": "First name",
                "customer.last_name": "Last name",
                "submitted_at": "Response date",
                "tags": "Tags",
            },
            ("Company", "Country"),
        ),
        (
            export_files.HELPDESK,
            "Help desk satisfaction export",
            {
                "ticket_ref": "Ticket ID",
                "score": "Score",
                "comment": "Comment",
                "customer.email": "Requester email",
                "customer.name": "Requester",
                "submitted_at": "Rated at",
                "tags": "Ticket tags",
            },
            (),
        ),
    ],
)
def test_each_tools_export_is_recognised_with_the_field_of_each_column(text, tool, expected, attributes):
    recognition = recognise(header_of(text))

    assert recognition.tool == tool
    assert recognition.columns == expected
    assert recognition.attributes == attributes
    assert recognition.refused == ""


def test_every_shape_names_its_format_version_and_a_score_source():
    assert len(SHAPES) == 6
    for shape in SHAPES:
        assert shape.version
        assert shape.signature


def test_a_file_of_no_known_tool_is_left_to_the_generic_names():
    recognition = recognise(["customer_id", "score", "plan"])
    assert (recognition.tool, recognition.columns, recognition.attributes) == (None, {}, ())
    assert shape_of(["customer_id", "score"]) is None


def test_the_nps_question_is_found_in_any_file():
    header = ["Client", "How likely are you to recommend us to a friend?", "Why?"]
    assert recognise(header).columns == {"score": header[1]}


@pytest.mark.parametrize(
    "name",
    [
        "How likely are you to recommend us to a friend?",
        "How likely is it that you would recommend IT support to a colleague?",
        "On a scale of 0-10, how likely are you to recommend Acme?",
        "NPS",
        "Net Promoter Score",
        "Likelihood that you would recommend us",
    ],
)
def test_nps_questions_are_recognised(name):
    assert is_nps_question(name)


@pytest.mark.parametrize("name", ["What is the main reason for your score?", "Email", "Comment", "Recommended by"])
def test_other_headers_are_not_the_nps_question(name):
    assert not is_nps_question(name)


@pytest.mark.parametrize(
    "name", ["CSAT", "Satisfaction (1-5)", "How satisfied were you?", "Thumbs", "Stars", "Rating 1 to 5", "csat_score"]
)
def test_headers_of_other_scales_are_recognised(name):
    assert is_other_scale(name)


def test_a_file_whose_only_score_is_on_another_scale_is_refused():
    recognition = recognise(header_of(export_files.CSAT))
    assert "another scale" in recognition.refused
    assert "Satisfaction (1-5)" in recognition.refused


def test_a_file_with_an_nps_score_beside_a_csat_column_is_not_refused():
    recognition = recognise(["Ticket ID", "Requester email", "Score", "CSAT"])
    assert recognition.refused == ""
    assert "CSAT" not in recognition.attributes


def test_answers_to_other_questions_are_not_attributes():
    recognition = recognise(
        ["#", "Submit Date (UTC)", "How likely are you to recommend us?", "What went wrong?", "team"]
    )
    assert recognition.attributes == ("team",)


@pytest.mark.parametrize(
    ("name", "normal"),
    [("Customer ID", "customer_id"), ("  Submit Date  (UTC) ", "submit_date_(utc)"), ("Q1-NPS--Group", "q1_nps_group")],
)
def test_headers_are_normalised_lowercase_with_runs_of_space_and_dashes_as_one_underscore(name, normal):
    assert normalise(name) == normal


def test_the_refusal_names_the_first_other_scale_column_cut_to_sixty_characters():
    long_name = "Satisfaction " + "x" * 80
    recognition = recognise(["Customer", long_name, "Stars"])
    assert recognition.refused == (
        f"The column {long_name[:60]!r} holds scores on another scale (CSAT, stars or thumbs): "
        "only NPS scores from 0 to 10 are imported, and other scales are not converted."
    )
    assert recognise(["Ticket ID", "Requester email", "Rating", "Satisfaction"]).refused == ""


@pytest.mark.parametrize("score", ["score", "Score", "nps_score", "NPS-Score"])
def test_a_file_with_a_score_column_is_not_refused_for_a_csat_column_beside_it(score):
    assert recognise(["customer_id", score, "CSAT"]).refused == ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Likely to recommend", True),
        ("likelihood to recommend", True),
        ("nps", True),
        ("NET  PROMOTER", True),
        ("snps", False),
        ("unlikely", False),
        ("How likely", True),
        ("likely", False),
    ],
)
def test_the_nps_question_is_found_by_whole_words(name, expected):
    assert is_nps_question(name) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Satisfied", True),
        ("thumb", True),
        ("star", True),
        ("CES", True),
        ("Effort", True),
        ("1-5", True),
        ("1 to 5", True),
        ("stars_rating", True),
        ("Start date", False),
        ("Process", False),
        ("1-10", False),
        ("NPS", False),
    ],
)
def test_other_scales_are_found_by_whole_words(name, expected):
    assert is_other_scale(name) is expected


def test_a_known_tools_file_sets_aside_its_own_columns_derived_values_other_scales_and_questions():
    header = [
        "#",
        "Submit Date (UTC)",
        "NPS",
        "Start Date (UTC)",
        "Network ID",
        "CSAT",
        "Q7",
        "q2_3",
        "Why? ",
        "Plan",
        "",
    ]
    recognition = recognise(header)
    assert recognition.tool == "Typeform"
    assert recognition.version == "Results CSV download (responses with hidden fields)"
    assert recognition.columns == {"external_id": "#", "submitted_at": "Submit Date (UTC)", "score": "NPS"}
    assert recognition.attributes == ("Plan",)
    assert recognise(["ResponseId", "RecordedDate", "Q3", "Q3_NPS_GROUP", "Plan_NPS_Group", "Plan"]).attributes == (
        "Plan",
    )


def test_the_first_header_spelling_of_a_column_wins_and_the_first_alias_found_is_taken():
    recognition = recognise(["Response ID", "Score", "Created At", "response_id", "Person Email", "Email"])
    assert recognition.columns["external_id"] == "Response ID"
    assert recognition.columns["customer.email"] == "Email"


def test_qualtrics_nps_group_names_the_question_column_and_only_that_one():
    assert recognise(["ResponseId", "RecordedDate", "Q1", "Q2", "Q2_NPS_GROUP"]).columns["score"] == "Q2"
    assert "score" not in recognise(["ResponseId", "RecordedDate", "Q1", "Q2"]).columns
    assert recognise(["Client", "Q5", "q5_nps_group"]).columns == {"score": "Q5"}


def test_an_unknown_file_recognises_nothing_but_its_nps_question():
    recognition = recognise(["Client", "Net Promoter Score", "Plan"])
    assert recognition == Recognition(columns={"score": "Net Promoter Score"})
    assert (recognition.tool, recognition.version, recognition.attributes, recognition.refused) == (None, "", (), "")
    assert shape_of(["", "Response ID", "Score"]) is None
    assert shape_of(["Response ID", "Score", "Created At"]) is SHAPES[0]


def test_a_tools_own_score_column_wins_over_an_nps_question_column():
    recognition = recognise(["Response ID", "Score", "Created At", "How likely are you to recommend us?"])
    assert recognition.columns["score"] == "Score"


def test_a_file_without_any_score_column_is_not_refused():
    assert recognise(["customer_id", "plan"]).refused == ""
    assert recognise(["Response ID", "Created At", "Plan"]).refused == ""
