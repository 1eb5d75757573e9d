"""Run the web server and the task cluster together, as `make run` does.

Ctrl-C in a terminal signals the whole foreground process group, and a django-q2 cluster
whose workers receive that signal alongside their parent has been seen to hang for minutes.
So both children run in sessions of their own, out of reach of the terminal, and this
process stops them itself: SIGTERM to the cluster's main process only (it stops its workers),
SIGTERM to the web server, then SIGKILL to whatever is left after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

GRACE_SECONDS = 8


class Command(BaseCommand):
    help = "Serve the web UI and API and run the task cluster; Ctrl-C stops both."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args, host: str, port: int, **options) -> None:
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        stopping = False

        def request_stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        cluster = self._start([sys.executable, manage, "qcluster"])
        # --insecure serves the static files (admin, styles) without DEBUG for this local run.
        web = self._start([sys.executable, manage, "runserver", f"{host}:{port}", "--noreload", "--insecure"])
        self.stdout.write(f"closedloop is running at http://{host}:{port}/ (Ctrl-C stops it)")
        self.stdout.flush()
        while not stopping and cluster.poll() is None and web.poll() is None:
            time.sleep(0.2)
        self.stdout.write("Stopping the web server and the task cluster...")
        for process in (web, cluster):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (web, cluster):
            self._wait_or_kill(process)
        self.stdout.write("Stopped.")

    def _start(self, command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(command, start_new_session=True)

    def _wait_or_kill(self, process: subprocess.Popen) -> None:
        try:
            process.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.stderr.write(f"process {process.pid} did not stop in {GRACE_SECONDS}s; killing it")
        # Workers left behind by a cluster that died first are still in its process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
