"""Importing the exports of the tools teams leave, as a new user would: files as those tools write them,
through ``manage.py import_responses``, checked against what is stored."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from followups.models import ResponseRootCause
from surveys.models import Customer, ImportJob, Response, SavedMapping
from surveys.services.imports import import_job_create, import_job_run
from tests.surveys import export_files

pytestmark = pytest.mark.django_db


def run(tmp_path, content: bytes | str, *options: str, name: str = "export.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    out = io.StringIO()
    call_command("import_responses", str(path), "--survey", "support-2026", *options, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def stored() -> list[tuple]:
    return [
        (r.external_id, r.customer.external_id, r.score, r.submitted_at)
        for r in Response.objects.select_related("customer").order_by("submitted_at", "external_id")
    ]


def codes() -> set[tuple[str | None, str]]:
    return set(
        ResponseRootCause.objects.filter(source=ResponseRootCause.Source.IMPORT).values_list(
            "response__external_id", "root_cause__slug"
        )
    )


def test_a_delighted_export_imports_by_email_with_attributes_tags_and_every_time_format(survey, taxonomy, tmp_path):
    out = run(tmp_path, export_files.DELIGHTED)

    assert "a Delighted export; customers identified by email" in out
    assert stored() == [
        ("d-1", "ana@example.com", 9, datetime(2026, 10, 1, 10, 0, tzinfo=UTC)),
        ("d-3", "cy@example.com", 7, datetime(2026, 10, 1, 10, 0, tzinfo=UTC)),
        ("d-2", "bo@example.com", 3, datetime(2026, 10, 1, 11, 30, tzinfo=UTC)),
    ]
    ana = Customer.objects.get(external_id="ana@example.com")
    assert (ana.email, ana.name) == ("ana@example.com", "Ana Lima")
    assert ana.attributes == {"Plan": "pro", "Region": "EU", "tags": "Slow first response, vip"}
    # A tag naming a cause by its name or its slug becomes a code; "vip" names none and stays an attribute.
    assert codes() == {("d-1", "slow-response"), ("d-2", "slow-resolution")}
    assert "line 5: Email: No customer id column, and this row has no email to identify the customer." in out


def test_importing_the_same_export_again_stores_nothing(survey, taxonomy, tmp_path):
    run(tmp_path, export_files.DELIGHTED)
    before = (Response.objects.count(), ResponseRootCause.objects.count())

    out = run(tmp_path, export_files.DELIGHTED)

    assert "3 already imported" in out
    assert (Response.objects.count(), ResponseRootCause.objects.count()) == before


def test_a_surveymonkey_export_needs_its_date_order_and_skips_its_second_header_row(survey, tmp_path):
    out = run(tmp_path, export_files.SURVEYMONKEY)
    assert "2 rows, 0 created" in out
    assert "line 3: End Date '10/01/2026 10:00:00 AM': Ambiguous date" in out

    out = run(tmp_path, export_files.SURVEYMONKEY, "--date-order", "month-first", "--time-zone", "America/New_York")

    new_york = ZoneInfo("America/New_York")
    assert stored() == [
        ("11401", "ana@example.com", 9, datetime(2026, 10, 1, 10, 0, tzinfo=new_york)),
        ("11402", "bo@example.com", 2, datetime(2026, 10, 2, 22, 0, tzinfo=new_york)),
    ]
    ana = Customer.objects.get(external_id="ana@example.com")
    assert (ana.name, ana.attributes) == ("Ana Lima", {"Custom Data 1": "gold"})


def test_a_qualtrics_export_finds_the_nps_question_and_skips_its_extra_header_rows(survey, tmp_path):
    out = run(tmp_path, export_files.QUALTRICS, "--time-zone", "Europe/Lisbon")

    assert "a Qualtrics export" in out
    assert "2 rows, 2 created" in out
    lisbon = ZoneInfo("Europe/Lisbon")
    assert stored() == [
        ("R_1a", "E-100", 9, datetime(2026, 10, 1, 10, 0, 1, tzinfo=lisbon)),
        ("R_2b", "E-200", 4, datetime(2026, 10, 2, 10, 0, 1, tzinfo=lisbon)),
    ]
    assert Customer.objects.get(external_id="E-100").attributes == {"Department": "Finance"}


def test_a_typeform_export_keeps_hidden_fields_and_codes_its_tags(survey, taxonomy, tmp_path):
    run(tmp_path, export_files.TYPEFORM)

    assert stored() == [
        ("tf1", "U-1", 10, datetime(2026, 10, 1, 10, 0, tzinfo=UTC)),
        ("tf2", "U-2", 6, datetime(2026, 10, 2, 10, 0, tzinfo=UTC)),
    ]
    assert Customer.objects.get(external_id="U-2").attributes == {"plan": "free", "tags": "vpn-access"}
    assert codes() == {("tf2", "vpn-access")}


def test_a_retently_export_with_semicolons_a_bom_and_day_first_dates(survey, taxonomy, tmp_path):
    content = ("\ufeff" + export_files.RETENTLY).encode()

    run(tmp_path, content, "--date-order", "day-first")

    assert stored() == [
        ("rt-1", "ana@example.com", 9, datetime(2026, 10, 1, 10, 0, tzinfo=UTC)),
        ("rt-2", "bo@example.com", 5, datetime(2026, 10, 2, 10, 0, tzinfo=UTC)),
    ]
    assert Customer.objects.get(external_id="ana@example.com").attributes == {
        "Company": "Acme",
        "Country": "PT",
        "tags": "password reset",
    }
    assert codes() == {("rt-1", "password-reset")}


def test_a_help_desk_export_with_tabs_in_windows_1252(survey, taxonomy, tmp_path):
    content = export_files.HELPDESK.replace("Ana Lima", "Ana L\u00edma").encode("cp1252")

    run(tmp_path, content)

    responses = Response.objects.select_related("customer").order_by("ticket_ref")
    assert [(r.ticket_ref, r.customer.external_id, r.customer.name, r.score) for r in responses] == [
        ("4501", "ana@example.com", "Ana L\u00edma", 8),
        ("4502", "bo@example.com", "Bo Bell", 1),
    ]
    assert {slug for _, slug in codes()} == {"vpn-access", "hardware"}
    assert Customer.objects.get(external_id="ana@example.com").attributes == {"tags": "vpn-access,priority"}


def test_an_excel_workbook_imports_like_a_csv_file(survey, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Response ID", "Score", "Comment", "Email", "Name", "Created At"])
    sheet.append(["x-1", 9, "Typed", "ana@example.com", "Ana", datetime(2026, 10, 1, 10, 0)])
    sheet.append(["x-2", 6.0, None, "bo@example.com", "Bo", "2026-10-02 10:00:00 UTC"])
    sheet.append([1003, 8, "", "cy@example.com", "Cy", 1790848800])
    buffer = io.BytesIO()
    book.save(buffer)

    out = run(tmp_path, buffer.getvalue(), "--time-zone", "Europe/Lisbon", name="export.xlsx")

    assert "3 rows, 3 created" in out
    assert stored() == [
        ("x-1", "ana@example.com", 9, datetime(2026, 10, 1, 10, 0, tzinfo=ZoneInfo("Europe/Lisbon"))),
        ("1003", "cy@example.com", 8, datetime(2026, 10, 1, 10, 0, tzinfo=UTC)),
        ("x-2", "bo@example.com", 6, datetime(2026, 10, 2, 10, 0, tzinfo=UTC)),
    ]


def test_a_file_that_is_not_a_workbook_but_looks_like_one_is_refused(survey, tmp_path):
    with pytest.raises(CommandError, match="not an Excel workbook"):
        run(tmp_path, b"PK\x03\x04 not really", name="export.xlsx")


def test_a_csat_export_is_refused_not_converted(survey, tmp_path):
    with pytest.raises(CommandError, match="another scale"):
        run(tmp_path, export_files.CSAT)
    assert not ImportJob.objects.exists()


def test_mixed_time_formats_in_one_file_each_read_and_refusals_name_line_column_and_value(survey, tmp_path):
    content = (
        "customer_id,score,submitted_at\n"
        "C-1,9,2026-10-01T10:00:00Z\n"
        "C-2,9,2026-10-01 10:00:00 UTC\n"
        "C-3,9,1790848800000\n"
        "C-4,9,25/10/2026 10:00\n"
        "C-5,9,03/10/2026 10:00\n"
        "C-6,9,soon\n"
        "C-7,thumbs up,2026-10-01\n"
    )

    out = run(tmp_path, content)

    assert "7 rows, 4 created, 0 already imported, 3 rejected." in out
    assert "line 6: submitted_at '03/10/2026 10:00': Ambiguous date" in out
    assert "line 7: submitted_at 'soon': Not a time: 'soon'." in out
    assert "line 8: score 'thumbs up': Not an NPS score from 0 to 10" in out
    job = ImportJob.objects.get()
    assert [(entry["line"], entry["values"]) for entry in job.rejected] == [
        (6, {"submitted_at": "03/10/2026 10:00"}),
        (7, {"submitted_at": "soon"}),
        (8, {"score": "thumbs up"}),
    ]


def test_a_mapping_saved_by_the_command_is_used_again_by_name(survey, tmp_path):
    content = "Client,Likelihood,Region,When\nC-1,9,EU,01/02/2026\n"
    run(
        tmp_path,
        content,
        "--map",
        "customer.external_id=Client",
        "--map",
        "score=Likelihood",
        "--attribute",
        "Region",
        "--date-order",
        "day-first",
        "--save-mapping",
        "Legacy",
    )
    saved = SavedMapping.objects.get(name="Legacy")
    assert saved.mapping == {"customer.external_id": "Client", "score": "Likelihood", "attribute:Region": "Region"}
    assert saved.date_order == "day-first"

    run(tmp_path, "Client,Likelihood,Region,When\nC-2,3,US,01/02/2026\n", "--mapping", "Legacy")

    assert Customer.objects.get(external_id="C-2").attributes == {"Region": "US"}


def test_an_unknown_saved_mapping_or_time_zone_is_refused(survey, tmp_path):
    with pytest.raises(CommandError, match="No saved mapping named 'Nope'"):
        run(tmp_path, export_files.DELIGHTED, "--mapping", "Nope")
    with pytest.raises(CommandError, match="Unknown time zone"):
        run(tmp_path, export_files.DELIGHTED, "--time-zone", "Mars/Olympus")


def test_the_command_reads_a_csv_file_where_it_lies_and_resumes_an_interrupted_run(survey, tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("customer_id,score,external_id\n" + "".join(f"C-{n},{n % 11},r{n}\n" for n in range(25)))
    job = import_job_create(survey=survey, path=path, file_name="big.csv", enqueue=False)
    assert (job.content, job.source_path, job.source_encoding) == ("", str(path), "utf-8-sig")
    calls = []

    def crash_after_two_chunks(rows: int) -> None:
        calls.append(rows)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_job_run(job_id=job.pk, chunk_rows=10, progress=crash_after_two_chunks)
    assert Response.objects.count() == 20

    out = io.StringIO()
    call_command("import_responses", "--job", str(job.pk), stdout=out, stderr=io.StringIO())

    assert "25 rows, 25 created, 0 already imported, 0 rejected." in out.getvalue()
    assert Response.objects.count() == 25


def test_a_process_importing_a_csv_file_never_loads_the_workbook_reader():
    # openpyxl (with numpy) takes a third of a second to import: only a workbook needs it.
    script = (
        "import sys, django; django.setup()\n"
        "from surveys.management.commands import import_responses\n"
        "print('openpyxl' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "False"
