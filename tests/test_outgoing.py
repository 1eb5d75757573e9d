"""The guarded outgoing HTTP client: which targets it refuses, and how it talks to the others.

Real sockets on the loopback interface throughout; only the system resolver is replaced, where a
test needs a name to answer what an attacker's DNS server would.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from closedloop.lib import outgoing
from closedloop.lib.outgoing import OutgoingError, TargetRefused, address_refusal, check_target
from tests.servers import serving

# Every form of an internal target, with the kind of address it names; "{port}" is filled with a
# live server's port where a test needs one, so a request that got through would be seen.
INTERNAL_URLS = [
    ("http://127.0.0.1:{port}/", "loopback"),
    ("http://localhost:{port}/hooks", "loopback"),
    ("http://[::1]:{port}/", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
    ("http://2130706433:{port}/", "loopback"),
    ("http://0177.0.0.1:{port}/", "loopback"),
    ("http://0x7f.1:{port}/", "loopback"),
    ("http://0.0.0.0:{port}/", "unspecified"),
    ("http://[::]:{port}/", "unspecified"),
    ("http://169.254.169.254:{port}/latest/meta-data/", "link-local"),
    ("http://[fe80::1]:{port}/", "link-local"),
    ("http://10.0.0.5:{port}/", "private"),
    ("http://172.16.1.1:{port}/", "private"),
    ("http://192.168.1.10:{port}/", "private"),
    ("http://100.64.0.1:{port}/", "private"),
    ("http://[fd12:3456::1]:{port}/", "private"),
    ("http://224.0.0.1:{port}/", "multicast"),
    ("http://[ff02::1]:{port}/", "multicast"),
    ("http://240.0.0.1:{port}/", "reserved"),
    ("http://255.255.255.255:{port}/", "reserved"),
    ("http://192.0.2.10:{port}/", "reserved"),
    ("http://[64:ff9b::7f00:1]:{port}/", "loopback"),
    ("http://[2002:7f00:1::]:{port}/", "loopback"),
    ("https://[::ffff:a9fe:a9fe]:{port}/", "link-local"),
]
# What the setting for on-premises help desks admits; everything else stays refused with it on.
ADMITTED_WHEN_PRIVATE_ALLOWED = {"loopback", "private"}


class Target(ThreadingHTTPServer):
    """A server on 127.0.0.1 answering every POST with ``status`` (and ``location``), recording each."""

    def __init__(self, status: int = 200, location: str = "") -> None:
        super().__init__(("127.0.0.1", 0), _TargetHandler)
        self.status = status
        self.location = location
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


class _TargetHandler(BaseHTTPRequestHandler):
    server: Target

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        reply = b"SECRET-DB-DUMP " * 1000
        self.send_response(self.server.status, "Reason written by the target")
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture
def target() -> Iterator[Target]:
    with serving(Target()) as server:
        yield server


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """Start a TCP server on 127.0.0.1 that hands each connection to a function; yields a starter."""
    sockets: list[socket.socket] = []

    def start(handle: Callable[[socket.socket], None]) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def accept() -> None:
            with listener:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    handle(conn)

        threading.Thread(target=accept, daemon=True).start()
        return listener.getsockname()[1]

    yield start
    for listener in sockets:
        listener.close()


class Dns:
    """The system resolver, except for names given answers: one list of addresses per lookup, the last repeated."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []
        self._real = socket.getaddrinfo

    def getaddrinfo(self, host, port, *args, **kwargs) -> list:
        self.lookups.append(host)
        if host not in self.answers:
            return self._real(host, port, *args, **kwargs)
        addresses = self.answers[host][0] if len(self.answers[host]) == 1 else self.answers[host].pop(0)
        return [info for address in addresses for info in self._real(address, port, *args, **kwargs)]


@pytest.fixture
def dns(monkeypatch) -> Dns:
    fake = Dns()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


@contextmanager
def served(server: Target) -> Iterator[Target]:
    with serving(server):
        yield server


def _post(url: str, *, allow_private: bool = False, timeout: float = 5) -> outgoing.Reply:
    return outgoing.post(
        url,
        body=b'{"type":"ping"}',
        headers={"Content-Type": "application/json"},
        timeout=timeout,
        allow_private=allow_private,
    )


# The policy


@pytest.mark.parametrize(("url", "kind"), INTERNAL_URLS)
def test_every_form_of_an_internal_address_is_refused(url, kind):
    with pytest.raises(TargetRefused, match=rf"a{'n' if kind[0] in 'aeiou' else ''} {kind} address"):
        check_target(url.format(port=80), allow_private=False)


@pytest.mark.parametrize(("url", "kind"), INTERNAL_URLS)
def test_allowing_private_targets_admits_loopback_and_private_addresses_only(url, kind):
    if kind in ADMITTED_WHEN_PRIVATE_ALLOWED:
        check_target(url.format(port=80), allow_private=True)
    else:
        with pytest.raises(TargetRefused, match=kind):
            check_target(url.format(port=80), allow_private=True)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_refusal(ipaddress.ip_address(address), allow_private=False) is None


def test_the_refusal_names_the_host_and_the_address_it_resolves_to():
    with pytest.raises(TargetRefused) as refused:
        check_target("http://localhost:6379/", allow_private=False)

    assert str(refused.value) == (
        "Refused: localhost resolves to 127.0.0.1, a loopback address; requests to internal addresses are not sent."
    )


def test_a_name_with_one_internal_address_among_public_ones_is_refused(dns):
    dns.answers["mixed.example.com"] = [["8.8.8.8", "127.0.0.1"]]

    with pytest.raises(TargetRefused, match=re.escape("mixed.example.com resolves to 127.0.0.1")):
        check_target("https://mixed.example.com/hook", allow_private=False)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "http:///path", "http://[::1/", "http://example.com:99999/", "/relative"]
)
def test_what_is_not_an_http_url_with_a_host_is_not_sent(url):
    with pytest.raises(OutgoingError) as failed:
        check_target(url, allow_private=True)
    assert not isinstance(failed.value, TargetRefused)


# Sending


@pytest.mark.parametrize(
    ("url", "kind"),
    [(url, kind) for url, kind in INTERNAL_URLS if "127" in url or "localhost" in url or "2130706433" in url],
)
def test_a_refused_target_gets_no_connection(target, url, kind):
    with pytest.raises(TargetRefused):
        _post(url.format(port=target.port))

    assert target.requests == []


def test_an_allowed_target_gets_the_post_and_the_answer_is_its_status_only(target):
    target.status = 503

    reply = _post(f"http://localhost:{target.port}/hooks?x=1", allow_private=True)

    assert (reply.status, reply.succeeded, reply.summary) == (503, False, "HTTP 503 Service Unavailable")
    [(path, headers, body)] = target.requests
    assert (path, headers["host"], body) == ("/hooks?x=1", f"localhost:{target.port}", b'{"type":"ping"}')


def test_the_name_is_resolved_once_and_the_connection_goes_to_the_checked_address(target, dns):
    # The attacker's DNS answers an admitted address to the check, then another one: the client
    # must connect where it checked, not look the name up again (10.255.255.1 would time out).
    dns.answers["rebind.example.com"] = [["127.0.0.1"], ["10.255.255.1"]]

    reply = _post(f"http://rebind.example.com:{target.port}/h", allow_private=True, timeout=2)

    assert reply.status == 200
    assert dns.lookups.count("rebind.example.com") == 1
    [(_, headers, _)] = target.requests
    assert headers["host"] == f"rebind.example.com:{target.port}"


def test_a_redirect_is_answered_not_followed(target):
    with served(Target()) as inside:
        target.status, target.location = 307, f"http://127.0.0.1:{inside.port}/internal"

        reply = _post(f"http://127.0.0.1:{target.port}/", allow_private=True)

        assert reply.status == 307
        assert len(target.requests) == 1
        assert inside.requests == []


def test_an_answer_that_is_not_http_is_reported_without_quoting_it(raw_server):
    def garbage(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"SECRET-DB-DUMP password=hunter2\r\n\r\n")

    port = raw_server(garbage)

    with pytest.raises(OutgoingError) as failed:
        _post(f"http://127.0.0.1:{port}/", allow_private=True)

    assert str(failed.value) == "BadStatusLine: the answer was not valid HTTP."


def test_a_target_that_never_answers_times_out(raw_server):
    port = raw_server(lambda conn: time.sleep(3))
    started = time.monotonic()

    with pytest.raises(OutgoingError, match=r"TimeoutError: no answer within 0.5 s"):
        _post(f"http://127.0.0.1:{port}/", allow_private=True, timeout=0.5)

    assert time.monotonic() - started < 2


def test_a_target_trickling_its_answer_cannot_hold_the_sender_past_the_timeout(raw_server):
    def trickle(conn: socket.socket) -> None:
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(0.1)

    port = raw_server(trickle)
    started = time.monotonic()

    with pytest.raises(OutgoingError, match="TimeoutError"):
        _post(f"http://127.0.0.1:{port}/", allow_private=True, timeout=1)

    assert time.monotonic() - started < 2


def test_a_refused_connection_is_a_short_error(raw_server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(OutgoingError) as failed:
        _post(f"http://127.0.0.1:{port}/", allow_private=True)

    assert str(failed.value) == "ConnectionRefusedError: Connection refused."


def test_https_speaks_tls_so_a_plain_http_answer_fails(raw_server):
    def plain_http(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    port = raw_server(plain_http)

    with pytest.raises(OutgoingError, match="SSLError: TLS failed"):
        _post(f"https://localhost:{port}/", allow_private=True)
