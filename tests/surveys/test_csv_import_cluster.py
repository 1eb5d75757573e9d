"""An uploaded CSV file is imported by a real django-q2 cluster on the ORM broker, as in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from django_q.conf import Conf

from surveys.models import ImportJob, Response
from surveys.services.imports import import_job_create

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = b"customer_id,score,comment\n" + b"".join(f"C-{n},{n % 11},row {n}\n".encode() for n in range(3000))


@contextmanager
def running_cluster(log: Path) -> Iterator[subprocess.Popen]:
    """``manage.py qcluster`` on the test database, stopped as the documented service files stop it."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "closedloop.settings", "Q_WORKERS": "1"}
    env.pop("Q_SYNC", None)
    with log.open("wb") as output:
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            yield cluster
        finally:
            # The main process only: it stops its workers (signalling the group can hang them).
            cluster.send_signal(signal.SIGTERM)
            try:
                cluster.wait(timeout=30)
            except subprocess.TimeoutExpired:
                cluster.kill()
                cluster.wait()


@pytest.mark.postgres
@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_imported_by_a_running_cluster(survey, monkeypatch, tmp_path):
    # The test settings run tasks inline; this test enqueues on the ORM broker like production.
    monkeypatch.setattr(Conf, "SYNC", False)
    job = import_job_create(survey=survey, data=DATA, file_name="nps.csv")
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.PENDING

    log = tmp_path / "qcluster.log"
    with running_cluster(log):
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == ImportJob.Status.DONE:
                break
            time.sleep(0.2)

    assert job.status == ImportJob.Status.DONE, log.read_text(errors="replace")[-3000:]
    assert (job.rows, job.created) == (3000, 3000)
    assert Response.objects.filter(channel="import").count() == 3000
