"""Reading CSV files into ingestion items: the pure module, no database."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.csv_import import (
    CsvFileError,
    count_rows,
    decode,
    flatten_errors,
    read_header,
    read_rows,
    resolve_mapping,
)
from surveys.import_times import DateOrder

LISBON = ZoneInfo("Europe/Lisbon")
NEW_YORK = ZoneInfo("America/New_York")


def rows_of(text: str, mapping: dict[str, str] | None = None, tz=UTC) -> list:
    mapping = mapping or resolve_mapping(read_header(text))
    return list(read_rows(text, mapping=mapping, survey="support-2026", tz=tz))


def items_of(text: str, **kwargs) -> list[dict]:
    """The items read, less the idempotency key derived for rows without one (tested apart)."""
    items = [row.item for row in rows_of(text, **kwargs)]
    for item in items:
        if str(item.get("external_id", "")).startswith("csv:"):
            del item["external_id"]
    return items


def test_a_row_without_an_external_id_gets_a_key_from_its_content():
    text = "customer,score,comment,external_id\nC-1,9,ok,\nC-1,9,ok,\nC-1,8,ok,\nC-2,9,ok,given-1\n"
    keys = [row.item["external_id"] for row in rows_of(text)]
    assert keys[0] == keys[1]  # the same content: the same response
    assert keys[0] != keys[2]
    assert keys[0].startswith("csv:")
    assert keys[3] == "given-1"
    assert [row.item["external_id"] for row in rows_of(text)] == keys  # stable across reads


# Decoding


def test_it_reads_utf8_with_the_byte_order_mark_spreadsheets_write():
    assert decode("\ufeffcustomer_id,score\nJosé,9\n".encode()) == "customer_id,score\nJosé,9\n"


def test_it_reads_utf16_marked_with_a_byte_order_mark():
    assert decode("customer_id\tscore\nJosé\t9\n".encode("utf-16")) == "customer_id\tscore\nJosé\t9\n"


def test_text_that_is_not_utf8_is_read_as_the_windows_1252_excel_saves():
    text = "customer_id,score\nJos\u00e9 \u2013 \u201cok\u201d,9\n"  # an en dash and curly quotes
    assert decode(text.encode("cp1252")) == text


def test_it_refuses_text_in_neither_encoding_and_says_how_to_save_it():
    with pytest.raises(CsvFileError, match="CSV UTF-8"):
        decode(b"customer_id,score\nJos\x81,9\n")


def test_it_refuses_a_binary_file_such_as_a_spreadsheet():
    with pytest.raises(CsvFileError, match="NUL"):
        decode(b"PK\x03\x04\x14\x00\x00\x00\x08\x00")


# Header and mapping


def test_conventional_column_names_map_to_fields_whatever_their_case_and_spacing():
    header = ["Customer ID", "E-mail", "NPS", "Why", "Submitted At", "Ticket", "Response ID", "Channel"]

    assert resolve_mapping(header) == {
        "customer.external_id": "Customer ID",
        "customer.email": "E-mail",
        "score": "NPS",
        "comment": "Why",
        "submitted_at": "Submitted At",
        "ticket_ref": "Ticket",
        "external_id": "Response ID",
        "channel": "Channel",
    }


def test_a_named_column_overrides_the_one_found_by_name():
    mapping = resolve_mapping(["customer", "score", "Likelihood"], {"score": "Likelihood"})

    assert mapping == {"customer.external_id": "customer", "score": "Likelihood"}


def test_an_override_may_name_the_column_loosely():
    assert (
        resolve_mapping(["Account Holder", "score"], {"customer.external_id": "account holder"})["customer.external_id"]
        == "Account Holder"
    )


def test_attribute_columns_become_customer_attributes_under_their_own_name():
    mapping = resolve_mapping(["customer", "score", "attribute:Plan", "Region"], {"attribute:region": "Region"})

    assert mapping["attribute:Plan"] == "attribute:Plan"
    assert mapping["attribute:region"] == "Region"


def test_columns_that_map_to_nothing_are_left_out():
    assert resolve_mapping(["customer", "score", "agent", "notes"]) == {
        "customer.external_id": "customer",
        "score": "score",
    }


def test_a_file_without_customer_or_score_columns_is_refused_with_the_names_it_needs():
    with pytest.raises(CsvFileError) as caught:
        resolve_mapping(["client", "rating_text"])

    assert "customer.external_id (named customer_external_id or customer_id or customer)" in caught.value.message
    assert "score (named score or nps or nps_score or rating)" in caught.value.message
    assert "Columns found: 'client', 'rating_text'" in caught.value.message


def test_an_override_naming_a_missing_column_is_refused():
    with pytest.raises(CsvFileError, match="no column 'NPS' for score"):
        resolve_mapping(["customer", "score"], {"score": "NPS"})


def test_an_override_of_an_unknown_field_is_refused():
    with pytest.raises(CsvFileError, match="Unknown field 'mood'"):
        resolve_mapping(["customer", "score", "mood"], {"mood": "mood"})


def test_an_overlong_attribute_name_is_refused_before_any_row_is_read():
    with pytest.raises(CsvFileError, match="attribute name"):
        resolve_mapping(["customer", "score", "attribute:" + "x" * 65])


def test_a_repeated_column_name_is_refused():
    with pytest.raises(CsvFileError, match="repeated: 'score'"):
        read_header("customer,score,score\nC-1,9,8\n")


def test_an_empty_file_is_refused():
    with pytest.raises(CsvFileError, match="empty"):
        read_header("\n\n")


def test_an_absurdly_long_column_name_is_shortened_in_messages():
    with pytest.raises(CsvFileError) as caught:
        resolve_mapping(["x" * 10_000])

    assert len(caught.value.message) < 500


# Delimiters and structure


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_it_finds_the_delimiter_from_the_header(delimiter):
    text = delimiter.join(["customer_id", "score", "comment"]) + "\n" + delimiter.join(["C-1", "9", '"a, b; c"']) + "\n"

    assert items_of(text) == [
        {"survey": "support-2026", "customer": {"external_id": "C-1"}, "score": 9, "comment": "a, b; c"}
    ]


def test_a_record_reports_the_line_it_starts_on_even_after_multi_line_comments():
    text = 'customer,score,comment\nC-1,9,"first\nsecond\nthird"\n\nC-2,3,short\r\nC-3,5,x'

    assert [row.line for row in rows_of(text)] == [2, 6, 7]
    assert rows_of(text)[0].item["comment"] == "first\nsecond\nthird"


def test_blank_lines_are_not_rows():
    assert count_rows("customer,score\n\nC-1,9\n , \nC-2,3\n\n") == 2


def test_an_unterminated_quote_is_reported_with_its_line():
    with pytest.raises(CsvFileError, match="Line 3: the file is not valid CSV"):
        count_rows('customer,score,comment\nC-1,9,ok\nC-2,3,"never closed\nC-3,5,x\n')


def test_a_cell_too_large_for_any_field_is_reported_with_its_line():
    with pytest.raises(CsvFileError, match=r"Line 3: .*field larger than field limit"):
        count_rows("customer,score,comment\nC-1,9,ok\nC-2,3," + "x" * 200_000 + "\n")


def test_a_row_with_more_cells_than_the_header_is_an_error_of_that_row():
    rows = rows_of("customer,score\nC-1,9,surprise\nC-2,3,\n")

    assert rows[0].item is None
    assert rows[0].errors == {"non_field_errors": ["Expected 2 columns, found 3."]}
    assert rows[1].item["score"] == 3


def test_a_row_with_fewer_cells_reads_the_missing_ones_as_empty():
    assert items_of("customer,score,comment\nC-1,9\n") == [
        {"survey": "support-2026", "customer": {"external_id": "C-1"}, "score": 9}
    ]


# Cells


def test_empty_cells_are_left_out_so_they_never_erase_stored_details():
    item = items_of("customer,email,name,score,attribute:plan\nC-1,, ,7,\n")[0]

    assert item == {"survey": "support-2026", "customer": {"external_id": "C-1"}, "score": 7}


def test_an_integer_score_cell_becomes_an_integer():
    assert [item["score"] for item in items_of("customer,score\nC-1, 10 \nC-2,0\nC-3,007\n")] == [10, 0, 7]


@pytest.mark.parametrize("cell", ["7.5", "seven", "-3", "1e1", "٣", "9" * 5000, "good", "👍"])
def test_other_score_cells_reject_their_row_saying_other_scales_are_not_converted(cell):
    (row,) = rows_of(f"customer,score\nC-1,{cell}\n")
    assert row.item is None
    assert "other scales are not converted" in row.errors["score"][0]
    assert row.values["score"] == cell


def test_a_time_without_an_offset_is_read_in_the_given_zone():
    items = items_of("customer,score,submitted_at\nC-1,9,2026-07-01 10:00\nC-2,9,2026-11-20T10:00:00\n", tz=NEW_YORK)

    assert [item["submitted_at"] for item in items] == ["2026-07-01T10:00:00-04:00", "2026-11-20T10:00:00-05:00"]


def test_a_date_alone_is_midnight_in_the_given_zone():
    assert items_of("customer,score,date\nC-1,9,2026-07-01\n", tz=LISBON)[0]["submitted_at"] == (
        "2026-07-01T00:00:00+01:00"
    )


def test_a_time_with_an_offset_is_kept():
    assert items_of("customer,score,submitted_at\nC-1,9,2026-11-20T10:00:00Z\n", tz=NEW_YORK)[0]["submitted_at"] == (
        "2026-11-20T10:00:00+00:00"
    )


def test_a_day_first_date_that_reads_one_way_only_is_read_without_a_choice():
    assert items_of("customer,score,submitted_at\nC-1,9,20/11/2026 10:00\n")[0]["submitted_at"] == (
        "2026-11-20T10:00:00+00:00"
    )


def test_an_ambiguous_date_rejects_its_row_unless_the_order_is_given():
    text = "customer,score,submitted_at\nC-1,9,03/10/2026 09:15\nC-2,9,2026-10-03\n"
    ambiguous, plain = rows_of(text)
    assert ambiguous.item is None and "day-first or month-first" in ambiguous.errors["submitted_at"][0]
    assert plain.item is not None
    mapping = resolve_mapping(read_header(text))
    (day_first, _) = read_rows(text, mapping=mapping, survey="s", tz=UTC, date_order=DateOrder.DAY_FIRST)
    (month_first, _) = read_rows(text, mapping=mapping, survey="s", tz=UTC, date_order=DateOrder.MONTH_FIRST)
    assert day_first.item["submitted_at"] == "2026-10-03T09:15:00+00:00"
    assert month_first.item["submitted_at"] == "2026-03-10T09:15:00+00:00"


def test_a_cell_that_is_no_time_rejects_its_row_with_its_value():
    (row,) = rows_of("customer,score,submitted_at\nC-1,9,next tuesday\n")
    assert row.item is None
    assert row.errors["submitted_at"][0].startswith("Not a time: 'next tuesday'")
    assert row.values == {"customer.external_id": "C-1", "score": "9", "submitted_at": "next tuesday"}


def test_a_channel_is_read_whatever_its_case():
    assert items_of("customer,score,channel\nC-1,9,Email\n")[0]["channel"] == "email"


def test_attribute_cells_are_customer_attributes():
    item = items_of("customer,score,attribute:plan,attribute:region\nC-1,9,gold,EU\n")[0]

    assert item["customer"] == {"external_id": "C-1", "attributes": {"plan": "gold", "region": "EU"}}


def test_a_mapped_column_missing_from_the_file_is_an_error_of_the_file():
    with pytest.raises(CsvFileError, match="no column 'NPS'"):
        rows_of("customer,score\nC-1,9\n", mapping={"customer.external_id": "customer", "score": "NPS"})


def test_nested_errors_are_keyed_by_field_as_the_mapping_names_them():
    errors = {"customer": {"email": ["Enter a valid email address."]}, "score": ["Required."]}

    assert flatten_errors(errors) == {"customer.email": ["Enter a valid email address."], "score": ["Required."]}


# A lone carriage return is left out: a writer ending lines with "\n" does not quote it.
cell_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r"), max_size=40)


@given(
    rows=st.lists(st.tuples(cell_text, cell_text), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_any_file_a_csv_writer_produces_reads_back_to_the_same_values(rows, delimiter, line_end):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(["customer", "comment"])
    writer.writerows(rows)
    mapping = {"customer.external_id": "customer", "comment": "comment"}

    read = list(read_rows(buffer.getvalue(), mapping=mapping, survey="s", tz=UTC))

    expected = [(c.strip(), m.strip()) for c, m in rows if c.strip() or m.strip()]
    assert [(row.item["customer"].get("external_id", ""), row.item.get("comment", "")) for row in read] == expected
