"""Prometheus metrics: the request latency histogram and the exposition of a scrape.

The histogram's labels take a bounded set of values, so its series stay few whatever the
traffic: the URL pattern's name (raw paths carry ids), the method (an unusual one counts as
``other``) and the status code. Under gunicorn every worker keeps its own samples; with
``PROMETHEUS_MULTIPROC_DIR`` set (``manage.py serve`` sets it) each worker writes them to files
in that folder and a scrape adds up all of them, whichever worker answers it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Requests no URL pattern matched (404s for made-up paths) share one series.
UNMATCHED = "<unmatched>"

REQUEST_LATENCY = Histogram(
    "closedloop_http_request_duration_seconds",
    "Time to answer a request, by URL pattern name, method and status code.",
    ["view", "method", "status"],
)


class RequestLatencyMiddleware:
    """Observe every request's duration in ``REQUEST_LATENCY``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_LATENCY.labels(
            view=_view_name(request),
            method=request.method if request.method in METHODS else "other",
            status=str(response.status_code),
        ).observe(time.perf_counter() - started)
        return response


def _view_name(request: HttpRequest) -> str:
    match = request.resolver_match
    return match.view_name if match is not None and match.view_name else UNMATCHED


class _Scrape:
    """The collectors of one scrape, read in turn (``generate_latest`` only calls ``collect``)."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition(*extra: Collector) -> tuple[bytes, str]:
    """The text a scrape returns, and its content type: this process's metrics, or every
    worker's in multiprocess mode, followed by ``extra`` collectors read now."""
    multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    own: Collector = MultiProcessCollector(None, path=multiprocess_dir) if multiprocess_dir else REGISTRY
    return generate_latest(_Scrape([own, *extra])), CONTENT_TYPE_LATEST
