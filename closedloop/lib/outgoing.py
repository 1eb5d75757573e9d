"""The one HTTP client for every request the product sends out (today: webhook deliveries).

A URL a manager types is a request the server sends on their behalf from inside the network: left
unguarded, it reaches the database, Redis or the cloud's metadata service (SSRF). So ``post``:

1. resolves the URL's host once and refuses the request unless every address passes the policy;
2. connects to a checked address and never resolves the name again, so a DNS answer that changes
   between the check and the connection (DNS rebinding) cannot move the request inside; the Host
   header and TLS (SNI and the certificate check) still name the host;
3. returns a redirect as the answer it is, never following it: a 307 to an internal address, or
   to anywhere the manager did not choose, gets no request (and a signed POST is not re-sent);
4. never reads the reply's body, so nothing the target says comes back to whoever chose it, and
   every error it raises is a short text naming no reply content, safe to store and show.

The policy refuses loopback, private (RFC 1918, shared 100.64.0.0/10, unique local fc00::/7),
link-local (169.254.0.0/16 with the metadata service, fe80::/10), multicast, unspecified
(0.0.0.0/8, ::) and every other address that is not global (reserved, documentation,
benchmarking), also when written as an IPv4-mapped, NAT64 or 6to4 IPv6 address, or in the
decimal, octal and hex forms the system resolver reads (``http://2130706433/`` is 127.0.0.1).
``allow_private`` (for an on-premises help desk) admits loopback and private addresses only; the
metadata service and the rest stay refused.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]

ERROR_MAX = 200
# Networks that are private but routable inside a site: what allow_private admits, with loopback.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fec0::/10")
)
ADMITTED_WHEN_PRIVATE_ALLOWED = frozenset({"loopback", "private"})
# "This network": Linux takes a connection to 0.0.0.0 to the machine itself.
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@functools.cache
def _tls() -> ssl.SSLContext:
    # Made on the first https request, not at import: loading the CA certificates takes a while.
    return ssl.create_default_context()


class OutgoingError(Exception):
    """A request not sent or not answered; its text is short and quotes nothing the target sent."""


class TargetRefused(OutgoingError):
    """The URL's host is, or resolves to, an address the policy refuses."""


@dataclass(frozen=True)
class Reply:
    """The target's answer: its status only, as the body is never read."""

    status: int

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status < 300

    @property
    def summary(self) -> str:
        """ "HTTP 503 Service Unavailable", with the standard reason, never the one the target sent."""
        try:
            return f"HTTP {self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return f"HTTP {self.status}"


@dataclass(frozen=True)
class _Target:
    tls: bool
    host: str
    port: int
    path: str


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """What kind of address refuses ``address`` as a target ("loopback"), or None when it may be one."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_refusal(embedded, allow_private=allow_private)
    kind = _kind(address)
    if kind is None or (allow_private and kind in ADMITTED_WHEN_PRIVATE_ALLOWED):
        return None
    return kind


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (::ffff:127.0.0.1, 64:ff9b::7f00:1, 2002:7f00:1::)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _kind(address: IPAddress) -> str | None:
    # The order matters: 127.0.0.1 is "loopback" before it is "not global".
    if address.is_unspecified or address in THIS_NETWORK:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if any(address in network for network in PRIVATE_NETWORKS):
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def check_target(url: str, *, allow_private: bool) -> None:
    """Raise TargetRefused when ``url``'s host resolves to a refused address right now.

    OutgoingError when the URL is not an http(s) URL with a host, or the host does not resolve.
    This is the early answer for whoever enters the URL; ``post`` checks again when it sends.
    """
    target = _target(url)
    _checked_addresses(target.host, target.port, allow_private=allow_private)


def post(url: str, *, body: bytes, headers: Mapping[str, str], timeout: float, allow_private: bool = False) -> Reply:
    """POST ``body`` to ``url`` and return the reply's status, or raise OutgoingError.

    1. Resolve the host and refuse unless every address passes the policy (TargetRefused).
    2. Connect to the first checked address that accepts, TLS verified against the host name.
    3. Send, then read the status line and headers; the body stays unread and a 3xx is returned
       like any other status.
    Connecting, TLS, sending and waiting for the answer take at most ``timeout`` seconds in all.
    """
    target = _target(url)
    deadline = time.monotonic() + timeout
    addresses = _checked_addresses(target.host, target.port, allow_private=allow_private)
    sock = _connect(addresses, deadline, timeout)
    try:
        return _exchange(sock, target, body=body, headers=headers, deadline=deadline, timeout=timeout)
    finally:
        sock.close()


def _target(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # such as an unclosed "[" or a port out of range
        raise OutgoingError("Not a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        raise OutgoingError("Not an http:// or https:// URL with a host.")
    try:
        # One ASCII name for the resolver, the Host header and TLS alike.
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise OutgoingError("Not a valid host name.") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(tls=scheme == "https", host=host, port=port or (443 if scheme == "https" else 80), path=path)


def _checked_addresses(host: str, port: int, *, allow_private: bool) -> list[AddressInfo]:
    """Every address ``host`` resolves to, once each is known to pass the policy."""
    try:
        addresses: list[AddressInfo] = list(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    except OSError as exc:
        raise OutgoingError(f"Could not resolve {host}.") from exc
    for *_, sockaddr in addresses:
        address = ipaddress.ip_address(sockaddr[0])
        kind = address_refusal(address, allow_private=allow_private)
        if kind is not None:
            raise TargetRefused(_refusal(host, address, kind))
    return addresses


def _refusal(host: str, address: IPAddress, kind: str) -> str:
    """ "Refused: localhost resolves to 127.0.0.1, a loopback address; ..." """
    embedded = _embedded_ipv4(address)
    shown = f"{address} ({embedded})" if embedded else str(address)
    article = "an" if kind[0] in "aeiou" else "a"
    try:
        literal = ipaddress.ip_address(host) == address
    except ValueError:
        literal = False
    named = f"{shown} is" if literal else f"{host} resolves to {shown},"
    return f"Refused: {named} {article} {kind} address; requests to internal addresses are not sent."


def _connect(addresses: list[AddressInfo], deadline: float, timeout: float) -> socket.socket:
    """A socket connected to the first checked address that accepts before the deadline."""
    failure: OSError = TimeoutError("timed out")
    for family, kind, proto, _, sockaddr in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock = socket.socket(family, kind, proto)
        sock.settimeout(remaining)
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            failure = exc
        else:
            return sock
    raise OutgoingError(_explain(failure, timeout)[:ERROR_MAX]) from failure


def _exchange(
    sock: socket.socket, target: _Target, *, body: bytes, headers: Mapping[str, str], deadline: float, timeout: float
) -> Reply:
    # The socket's timeout bounds each wait; the watchdog bounds them all together, so a target
    # trickling its answer a byte at a time cannot hold the sender past the deadline.
    remaining = max(deadline - time.monotonic(), 0.001)
    sock.settimeout(remaining)
    watchdog = threading.Timer(remaining, _hang_up, args=(sock,))
    watchdog.daemon = True
    watchdog.start()
    connection_class = http.client.HTTPSConnection if target.tls else http.client.HTTPConnection
    connection = connection_class(target.host, target.port, timeout=remaining)
    try:
        # A connection given its socket never connects by itself, so it cannot resolve the name again.
        connection.sock = _tls().wrap_socket(sock, server_hostname=target.host) if target.tls else sock
        connection.request("POST", target.path, body=body, headers=dict(headers))
        return Reply(connection.getresponse().status)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if time.monotonic() >= deadline:
            raise OutgoingError(f"TimeoutError: no answer within {timeout:g} s.") from exc
        raise OutgoingError(_explain(exc, timeout)[:ERROR_MAX]) from exc
    finally:
        watchdog.cancel()
        connection.close()


def _hang_up(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _explain(exc: BaseException, timeout: float) -> str:
    """A short text for a failure, naming its class; never a line or header the target sent."""
    name = type(exc).__name__
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{name}: {exc.verify_message}."
    if isinstance(exc, ssl.SSLError):
        return f"{name}: TLS failed ({exc.reason or 'unknown reason'})."
    if isinstance(exc, http.client.RemoteDisconnected):
        return f"{name}: the target closed the connection without answering."
    if isinstance(exc, http.client.HTTPException):
        return f"{name}: the answer was not valid HTTP."  # its text would quote the target's bytes
    if isinstance(exc, TimeoutError):
        return f"{name}: no answer within {timeout:g} s."
    if isinstance(exc, OSError):
        return f"{name}: {exc.strerror or 'network error'}."
    return f"{name}: the request could not be sent."
