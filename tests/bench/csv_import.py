"""Importing an export file against feeding the same rows to the bulk ingestion service directly.

A Delighted-shaped export (response id, score, comment, email, name, a ``... UTC`` time, two
properties) of ``BENCH_ROWS`` rows (default 1,000,000) is imported with ``manage.py
import_responses`` in a child process, and its peak resident memory is read from the kernel
(``wait4``); a file of a tenth of the rows is imported the same way for the memory at
100,000 rows, since bounded memory means the two peaks are close. The baseline hands
``responses_ingest`` the items those rows become (ISO times, the email as customer id), in
batches of 10,000 as the bulk endpoint takes them, in this process. Each side writes to a
fresh survey and fresh customers; the ratio is the import's rows per second over the baseline's.

Run: DATABASE_URL=postgres://... .venv/bin/python tests/bench/csv_import.py
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `make bench` runs this as a file

# Sets Django up, so it comes before anything that needs the app registry.
from tests.bench.common import delete_rows, migrate, progress, report, run_token, timed

# isort: split
from surveys.models import Channel, Customer, ImportJob, Response, Survey
from surveys.services import responses_ingest, survey_create

ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))
SMALL_ROWS = ROWS // 10
BATCH = 10_000
TARGET_RATIO = 0.8
HEADER = ("Response ID", "Score", "Comment", "Email", "Name", "Created At", "Plan", "Region")
COMMENTS = ["Took a week to reset my VPN token", "Fixed in minutes, thank you!", "", "Nobody called back", ""]
PLANS = ["bronze", "silver", "gold", "platinum"]
REGIONS = ["EU", "NA", "APAC", "LATAM"]
START = datetime(2025, 1, 1, tzinfo=UTC)


def rows(token: str, count: int) -> Iterator[tuple[str, ...]]:
    """The export's rows: 40 % of the customers answer twice, scores spread over 0-10."""
    for n in range(count):
        customer = n % (count * 6 // 10 or 1)
        moment = START + timedelta(seconds=n * 17)
        yield (
            f"{token}-{n}",
            str(n * 7 % 11),
            COMMENTS[n % len(COMMENTS)],
            f"user{customer}@{token}.example.com",
            f"User {customer}",
            moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
            PLANS[customer % 4],
            REGIONS[customer // 4 % 4],
        )


def write_export(path: Path, token: str, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        writer.writerows(rows(token, count))


def items(survey: str, token: str, count: int) -> Iterator[dict[str, Any]]:
    """The same rows as the items an API client would send for them."""
    for external_id, score, comment, email, name, created, plan, region in rows(token, count):
        item: dict[str, Any] = {
            "survey": survey,
            "customer": {
                "external_id": email,
                "email": email,
                "name": name,
                "attributes": {"Plan": plan, "Region": region},
            },
            "score": int(score),
            "submitted_at": created.replace(" UTC", "+00:00").replace(" ", "T"),
            "external_id": external_id,
        }
        if comment:
            item["comment"] = comment
        yield item


def import_file(path: Path, survey: str) -> tuple[float, float]:
    """Run import_responses in a child process; its wall time and peak resident memory in MB."""
    command = [sys.executable, "manage.py", "import_responses", str(path), "--survey", survey]
    start = datetime.now()
    child = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = (datetime.now() - start).total_seconds()
    if child.returncode != 0:
        sys.exit(f"import_responses failed:\n{output}")
    progress("  " + output.strip().splitlines()[-1])
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in kB on Linux


def ingest_directly(survey: str, token: str, count: int) -> float:
    batch: list[dict[str, Any]] = []
    elapsed = 0.0
    for item in items(survey, token, count):
        batch.append(item)
        if len(batch) == BATCH:
            seconds, _ = timed(responses_ingest, items=batch, default_channel=Channel.IMPORT)
            elapsed += seconds
            batch = []
    if batch:
        seconds, _ = timed(responses_ingest, items=batch, default_channel=Channel.IMPORT)
        elapsed += seconds
    return elapsed


def main() -> None:
    migrate()
    token = run_token()
    surveys = {
        side: survey_create(slug=f"bench-{side}-{token}", name=f"Bench {side} {token}")
        for side in ("small", "ours", "ingest")
    }
    with tempfile.TemporaryDirectory() as directory:
        try:
            small_path = Path(directory) / "small.csv"
            write_export(small_path, f"s{token}", SMALL_ROWS)
            progress(f"importing {SMALL_ROWS} rows for the memory at that size")
            _, small_rss = import_file(small_path, surveys["small"].slug)
            path = Path(directory) / "export.csv"
            write_export(path, f"o{token}", ROWS)
            progress(f"importing {ROWS} rows with import_responses")
            ours_seconds, rss = import_file(path, surveys["ours"].slug)
            progress(f"  {ours_seconds:.1f} s, peak {rss:.0f} MB")
            progress(f"ingesting the same {ROWS} rows with responses_ingest")
            ingest_seconds = ingest_directly(surveys["ingest"].slug, f"i{token}", ROWS)
            progress(f"  {ingest_seconds:.1f} s")
        finally:
            progress("cleaning up")
            for survey in surveys.values():
                delete_rows(Response.objects.filter(survey=survey))
                ImportJob.objects.filter(survey=survey).delete()
            delete_rows(Customer.objects.filter(external_id__contains=f"{token}.example.com"))
            delete_rows(Survey.objects.filter(pk__in=[s.pk for s in surveys.values()]))
    ours, ingest = ROWS / ours_seconds, ROWS / ingest_seconds
    ratio = ours / ingest
    progress(f"ratio {ratio:.2f} (target at least {TARGET_RATIO})")
    report(
        {
            "bench": "csv_import",
            "rows": ROWS,
            "ours_rows_per_s": round(ours),
            "ingest_rows_per_s": round(ingest),
            "ratio": round(ratio, 3),
            "peak_rss_mb": round(rss, 1),
            "peak_rss_mb_100k": round(small_rss, 1),
        }
    )


if __name__ == "__main__":
    main()
