"""Serve the product as production does (gunicorn, whitenoise) and run the task cluster, as `make run` does.

1. Collect the static files, which whitenoise serves from STATIC_ROOT; with ``--demo``, create the
   demo data unless it is present.
2. Start the task cluster and gunicorn, their output (console emails, request log) in log files
   under the run folder, so the terminal keeps only what a person needs.
3. Once the server answers ``/healthz``, print its address, then the demo logins, last.
4. Ctrl-C or SIGTERM stops both.

Ctrl-C in a terminal signals the whole foreground process group, and a django-q2 cluster
whose workers receive that signal alongside their parent has been seen to hang for minutes.
So both children run in sessions of their own, out of reach of the terminal, and this
process stops them itself: SIGTERM to the cluster's main process only (it stops its workers),
SIGTERM to gunicorn's master (it stops its workers after their current request), then SIGKILL
to whatever is left after a grace period.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

GRACE_SECONDS = 8
# gunicorn's own wait for busy workers, inside the grace period.
WEB_GRACEFUL_SECONDS = 5
READY_TIMEOUT_SECONDS = 60


class Command(BaseCommand):
    help = "Serve the web UI and API with gunicorn and run the task cluster; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        # Several workers on SQLite too: it waits for the write lock (settings.DATABASES).
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
        parser.add_argument(
            "--run-dir", type=Path, default=Path(settings.BASE_DIR) / "run", help="where the log files go"
        )
        parser.add_argument(
            "--demo", action="store_true", help="create the demo data unless present; print its logins last"
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, run_dir: Path, demo: bool, **options: Any) -> None:
        # The children's SITE_URL and the demo's printed address follow --port.
        os.environ["PORT"] = str(port)
        run_dir.mkdir(parents=True, exist_ok=True)
        call_command("collectstatic", interactive=False, verbosity=0)
        welcome = self._seed_demo() if demo else ""
        # The children open their own connections; this process needs none while it waits.
        connections.close_all()

        stopping = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        cluster = self._start([sys.executable, manage, "qcluster"], log=run_dir / "tasks.log")
        web = self._start(self._gunicorn(host, port, workers), log=run_dir / "web.log", env=self._metrics_env(run_dir))
        children = (web, cluster)
        self._wait_until_serving(host, port, children, lambda: stopping)
        if not stopping and _all_running(children):
            self.stdout.write(f"closedloop is running at http://{host}:{port}/ (Ctrl-C stops it)")
            self.stdout.write(f"Logs: {run_dir / 'web.log'} (web requests), {run_dir / 'tasks.log'} (tasks, emails)")
            self.stdout.write(welcome, ending="")
            self.stdout.flush()
        while not stopping and _all_running(children):
            time.sleep(0.2)
        self._stop(children)

    def _stop(self, children: tuple[subprocess.Popen[bytes], ...]) -> None:
        self.stdout.write("Stopping the web server and the task cluster...")
        for process in children:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in children:
            self._wait_or_kill(process)
        self.stdout.write("Stopped.")

    def _seed_demo(self) -> str:
        """Create the demo data unless present, and return what seed_demo prints (the logins)."""
        self.stdout.write("Preparing the demo data...")
        self.stdout.flush()
        output = io.StringIO()
        call_command("seed_demo", stdout=output)
        return output.getvalue()

    def _gunicorn(self, host: str, port: int, workers: int) -> list[str]:
        return [
            *(sys.executable, "-m", "gunicorn", "closedloop.wsgi"),
            *("--chdir", str(settings.BASE_DIR), "--bind", f"{host}:{port}", "--workers", str(workers)),
            *("--graceful-timeout", str(WEB_GRACEFUL_SECONDS)),
            # Its control socket has one default path per user: two servers on a machine would share it.
            "--no-control-socket",
            # Both logs to the log file (the child's stdout), not to the terminal.
            *("--access-logfile", "-", "--error-logfile", "-"),
        ]

    def _metrics_env(self, run_dir: Path) -> dict[str, str]:
        """The environment of gunicorn: its workers share request metrics through files in an empty folder."""
        folder = run_dir / "prometheus"
        # Samples left by an earlier run's workers would be added to this run's.
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}

    def _start(self, command: list[str], *, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with log.open("wb") as output:
            return subprocess.Popen(command, start_new_session=True, stdout=output, stderr=subprocess.STDOUT, env=env)

    def _wait_until_serving(
        self,
        host: str,
        port: int,
        children: tuple[subprocess.Popen[bytes], ...],
        stopping: Callable[[], bool],
    ) -> None:
        """Poll /healthz until it answers 200, a child dies, a stop comes or time runs out."""
        # No proxy from the environment: the server is on this machine.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not stopping() and _all_running(children):
            if time.monotonic() > deadline:
                self.stderr.write(f"the server did not answer /healthz within {READY_TIMEOUT_SECONDS} s")
                return
            # An error status (503: no database) raises HTTPError, an OSError too: keep polling.
            with contextlib.suppress(OSError), opener.open(f"http://{host}:{port}/healthz", timeout=2):
                return
            time.sleep(0.2)

    def _wait_or_kill(self, process: subprocess.Popen[bytes]) -> None:
        try:
            process.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.stderr.write(f"process {process.pid} did not stop in {GRACE_SECONDS}s; killing it")
        # Workers left behind by a parent that died first are still in its process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _all_running(children: tuple[subprocess.Popen[bytes], ...]) -> bool:
    return all(process.poll() is None for process in children)
