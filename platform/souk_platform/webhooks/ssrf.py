"""The SSRF guard for webhook URLs: resolve, check every address, then connect to the checked one.

``GuardedTransport`` is an httpx transport: for each request it resolves the host, refuses the request
if any address is private, loopback, link-local, multicast, reserved or a cloud metadata endpoint, and
sends the request to the checked IP (``Host`` header and TLS SNI keep the hostname), so a DNS answer
that changes between the check and the connection (rebinding) cannot redirect it. Loopback may be
allowed for local development and tests; nothing else ever is.

``guard_destination`` is the one guard: delivery calls it with a resolver, and registering a URL
(a subscription, an app manifest's endpoint) calls it without one, so what the URL spells (an
address in any notation, a localhost name) is refused up front with the same rules.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]  # (host, port) -> IP strings

# Not all of these are caught by ``is_global``: Alibaba Cloud's metadata sits in shared (CGNAT) space.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254", "169.254.170.2")
)
# IPv6 ranges that carry an IPv4 address in their last 32 bits and may be routed to it: NAT64's
# well-known prefix, and the deprecated IPv4-compatible and SIIT-translated forms.
_CARRY_IPV4_LAST_32_BITS = tuple(ipaddress.ip_network(n) for n in ("64:ff9b::/96", "::/96", "::ffff:0:0:0/96"))
_DEPRECATED_IPV4_IN_IPV6 = tuple(ipaddress.ip_network(n) for n in ("::/96", "::ffff:0:0:0/96"))
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: translated by a site's own gateway
# What inet_aton reads as an IPv4 address besides dotted quads: 127.1, 2130706433, 0x7f.1, 0177.0.0.1.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


# A sending thread's pools: (scheme, host, port) -> (transport, when last used), least recently used first.
_ThreadPools = OrderedDict[tuple[str, str, int], tuple[httpx.HTTPTransport, float]]


class BlockedDestination(httpx.TransportError):
    """The URL leads somewhere a webhook must never go; nothing was sent."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and can reach (mapped, compatible, SIIT, NAT64, 6to4,
    Teredo's client), or None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in network for network in _CARRY_IPV4_LAST_32_BITS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def refusal(ip: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why a webhook must not connect to ``ip``, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # the same socket as the IPv4 address, loopback setting included
    elif isinstance(ip, ipaddress.IPv6Address) and not (ip.is_loopback or ip.is_unspecified):
        if ip in _NAT64_LOCAL_USE:
            return "a NAT64 address of a private network"
        carried = embedded_ipv4(ip)
        if carried is not None:
            # A tunnel or translator would take the request to the IPv4 address inside; development's
            # loopback exception is for 127.0.0.1 and ::1 themselves, not for a way round the guard.
            reason = refusal(carried, allow_loopback=False)
            if reason:
                return f"an IPv6 address carrying {carried}, {reason}"
            if any(ip in network for network in _DEPRECATED_IPV4_IN_IPV6):
                return "a deprecated IPv4-compatible IPv6 address"
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:  # reserved, unspecified, shared (CGNAT), documentation ranges
        return "a non-public address"
    return None


def check_url_shape(url: str) -> str | None:
    """Why ``url`` cannot be a webhook endpoint (before any DNS), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("http", "https"):
        return "The URL must start with http:// or https://."
    if not parts.hostname:
        return "The URL needs a host name."
    if parts.username or parts.password:
        return "The URL must not carry a user name or password."
    if port == 0:
        return "The URL's port is not valid."
    return None


def host_address(host: str) -> IPAddress | None:
    """The IP address ``host`` spells, in any notation a resolver reads as one (``[::1]``, ``127.1``,
    ``2130706433``, ``0x7f.0.0.1``); None for a name."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare.split("%")[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None  # a number too big for IPv4: no resolver connects anywhere with it
    return None


def _is_localhost_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")  # always loopback (RFC 6761)


def guard_destination(host: str, port: int, *, allow_loopback: bool, resolver: Resolver | None) -> str | None:
    """Check where ``host`` leads; raise ``BlockedDestination`` if it is refused.

    With ``resolver`` (delivery) a name is resolved, every answer must pass, and the checked IP to
    connect to is returned. Without one (registering a URL, when DNS may still change before the
    first delivery) only what ``host`` spells is checked, and None is returned for a name that passes.
    """
    literal = host_address(host)
    if literal is not None:
        candidates = [literal]
    elif resolver is None:
        if _is_localhost_name(host) and not allow_loopback:
            raise BlockedDestination(f"{host} is this computer, a loopback address")
        return None
    else:
        try:
            candidates = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
        except (OSError, ValueError) as exc:
            raise BlockedDestination(f"{host} does not resolve: {exc}") from exc
        if not candidates:
            raise BlockedDestination(f"{host} does not resolve")
    for ip in candidates:
        reason = refusal(ip, allow_loopback=allow_loopback)
        if reason:
            # One bad answer refuses the host: otherwise a round-robin record could mix in an internal IP.
            if literal is None:
                raise BlockedDestination(f"{host} resolves to {ip}, {reason}")
            spelled = host.strip("[]")
            raise BlockedDestination(f"{spelled} is {reason}" if spelled == str(ip) else f"{spelled} is {ip}, {reason}")
    return str(candidates[0])


def registration_problem(url: str, *, allow_loopback: bool) -> str | None:
    """Why ``url`` cannot be registered as a webhook endpoint (its shape, or the address it spells), or None.

    Delivery checks again on every attempt, after DNS (``GuardedTransport``).
    """
    problem = check_url_shape(url)
    if problem:
        return problem
    parts = urlsplit(url)
    assert parts.hostname is not None  # check_url_shape requires one
    try:
        guard_destination(
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
            allow_loopback=allow_loopback,
            resolver=None,
        )
    except BlockedDestination as exc:
        return f"Webhooks are only sent to public addresses: {exc}."
    return None


class GuardedTransport(httpx.BaseTransport):
    """Check and pin the destination of every request, then hand it to a real (or recording) transport.

    Without ``connect``, each sending thread keeps its own pooled ``httpx.HTTPTransport`` per
    (scheme, host, port): a TLS connection opened for one host name is never reused for another host
    on the same IP, and a connection is only ever touched by the thread that sends on it. httpcore's
    shared pool (1.0.9, encode/httpcore#1110) can close an idle connection that it has just handed to
    another thread's request: that request then waits for its response on a closed socket until the
    read timeout, though the receiver answered in milliseconds.
    """

    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        resolver: Resolver = system_resolver,
        connect: httpx.BaseTransport | None = None,
        max_pools: int = 64,
        pool_idle_seconds: float = 60.0,
        ca_file: str | None = None,
    ) -> None:
        self.allow_loopback = allow_loopback
        self._verify: ssl.SSLContext | bool = True
        if ca_file:  # the usual trust store, plus these
            self._verify = httpx.create_ssl_context()
            self._verify.load_verify_locations(cafile=ca_file)
        self._resolver = resolver
        self._connect = connect
        self._max_pools = max_pools  # per thread
        self._pool_idle_seconds = pool_idle_seconds  # a thread's pool unused this long is closed
        # One thread sends one request at a time, so one kept-alive connection per host is all it reuses.
        self._limits = httpx.Limits(max_connections=None, max_keepalive_connections=1)
        self._local = threading.local()
        self._every_threads_pools: list[_ThreadPools] = []  # for close()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https") or not url.host:
            raise BlockedDestination(f"{url.scheme}:// URLs are not delivered to", request=request)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            ip = guard_destination(url.host, port, resolver=self._resolver, allow_loopback=self.allow_loopback)
        except BlockedDestination as exc:
            raise BlockedDestination(str(exc), request=request) from None
        assert ip is not None  # with a resolver, a passing host always has its checked IP
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=ip),
            headers=request.headers,  # keeps Host: <hostname>
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": url.host},
        )
        response = self._transport_for(url.scheme, url.host, port).handle_request(pinned)
        response.request = request
        return response

    def _transport_for(self, scheme: str, host: str, port: int) -> httpx.BaseTransport:
        if self._connect is not None:
            return self._connect
        pools: _ThreadPools | None = getattr(self._local, "pools", None)
        if pools is None:
            pools = self._local.pools = OrderedDict()
            with self._lock:
                self._every_threads_pools.append(pools)
        now = time.monotonic()
        key = (scheme, host, port)
        entry = pools.pop(key, None)
        transport = entry[0] if entry else httpx.HTTPTransport(retries=0, limits=self._limits, verify=self._verify)
        # Oldest first: close this thread's pools past the cap or unused for a while (their sockets would
        # otherwise stay open). They are idle: this thread finished its previous request before this one.
        while pools and (
            len(pools) >= self._max_pools or next(iter(pools.values()))[1] < now - self._pool_idle_seconds
        ):
            _, (oldest, _used) = pools.popitem(last=False)
            oldest.close()
        pools[key] = (transport, now)
        return transport

    def close(self) -> None:
        with self._lock:
            for pools in self._every_threads_pools:
                for transport, _used in pools.values():
                    transport.close()
                pools.clear()
        if self._connect is not None:
            self._connect.close()


def webhook_client(**guard: Any) -> httpx.Client:
    """The httpx client deliveries use: guarded transport, 15 s timeout, redirects never followed."""
    return httpx.Client(
        transport=GuardedTransport(**guard),
        timeout=httpx.Timeout(15.0),
        follow_redirects=False,
        headers={"user-agent": "Souk-Webhooks/1.0"},
        trust_env=False,  # a proxy from the environment would bypass the pinning
    )
