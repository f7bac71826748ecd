"""Sending one webhook over HTTP, guarded against SSRF.

Only http(s) URLs with a host name or a canonical IP address are called. The
host is resolved once per connection, every address it resolves to is checked,
and the socket is opened to the checked address itself (TLS still verifies the
host name), so a DNS answer that changes between check and connect cannot steer
a delivery into the private network. Loopback, private, link-local, carrier-grade
NAT, multicast, reserved and documentation ranges are refused, as are IPv6
addresses that embed a refused IPv4 address (mapped, NAT64, 6to4) and Teredo;
``WEBHOOK_ALLOW_PRIVATE_NETWORKS`` lets development and tests reach some of them.

Redirects are never followed, nothing is retried here (the worker decides), no
proxy from the environment is used, and every call has a timeout.
"""

import email.utils
import ipaddress
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import connection as urllib3_connection

USER_AGENT = "commentsvc-webhooks/1"
# Characters of the receiver's answer kept in the delivery log.
EXCERPT_CHARS = 1000
# Answers up to this size are read whole so that the connection can be reused.
KEEPALIVE_BODY_LIMIT = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class DeliveryRefused(Exception):
    """The URL, or an address its host resolves to, may not be called.

    Deliberately not an ``OSError``: urllib3 must not mistake it for a network
    error and retry or wrap it.
    """


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Ranges refused beside what ipaddress flags (Python 3.11's is_private misses
# CGNAT, and its is_global still passes some special-purpose blocks).
_REFUSED_V4 = (
    ("carrier-grade NAT", _networks("100.64.0.0/10")),
    (
        "special-purpose",
        _networks(
            "0.0.0.0/8",
            "192.0.0.0/24",
            "192.0.2.0/24",
            "192.88.99.0/24",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "240.0.0.0/4",
        ),
    ),
)
_REFUSED_V6 = (
    ("unique local", _networks("fc00::/7")),
    ("site-local", _networks("fec0::/10")),
    ("local-use NAT64", _networks("64:ff9b:1::/48")),
    (
        "special-purpose",
        _networks(
            "::/96",  # IPv4-compatible (deprecated)
            "100::/64",  # discard-only
            "2001::/23",  # IETF protocol assignments, Teredo, ORCHID
            "2001:db8::/32",
            "3fff::/20",
            "5f00::/16",  # SRv6 SIDs
        ),
    ),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: mapped, NAT64 or 6to4."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal_reason(address: IPAddress) -> str | None:
    """What kind of refused address *address* is ("a loopback address"), or
    None if it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = refusal_reason(embedded)
            return f"{reason} ({embedded}) in IPv6 form" if reason else None
    for reason, flagged in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
    ):
        if flagged:
            return f"a {reason} address"
    extra = _REFUSED_V4 if address.version == 4 else _REFUSED_V6
    for reason, networks in extra:
        if any(address in network for network in networks):
            return f"a {reason} address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


@dataclass(frozen=True)
class AllowList:
    """Private networks and host names deliveries may reach (dev and tests)."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    def allows_address(self, address: IPAddress) -> bool:
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                candidates.append(embedded)
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.networks
        )


def parse_allow_list(raw: str | Iterable[str] | None) -> AllowList:
    """Parse ``WEBHOOK_ALLOW_PRIVATE_NETWORKS``: CIDRs, addresses or host names,
    separated by commas or spaces (or given as a list).

    Raises:
        ValueError: an entry is neither a network nor a host name.
    """
    if raw is None:
        entries = []
    elif isinstance(raw, str):
        entries = raw.replace(",", " ").split()
    else:
        entries = [str(entry).strip() for entry in raw if str(entry).strip()]
    networks, hosts = [], set()
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        host = entry.lower().rstrip(".")
        if not _is_hostname(host):
            raise ValueError(f"{entry!r} is neither a network (CIDR) nor a host name")
        hosts.add(host)
    return AllowList(tuple(networks), frozenset(hosts))


def _is_hostname(host: str) -> bool:
    labels = host.split(".")
    return (
        0 < len(host) <= 253
        and all(_HOSTNAME_LABEL.match(label) for label in labels)
        # A name ending in a number is an IPv4 address to browsers and resolvers
        # (2130706433, 0x7f.1, 127.1): refused rather than guessed at.
        and not _NUMERIC_LABEL.match(labels[-1])
    )


@dataclass(frozen=True)
class Target:
    """A checked URL: scheme, host (IDNA, lowercase) and port."""

    scheme: str
    host: str
    port: int
    address: IPAddress | None  # when the host is an IP literal


class AddressPolicy:
    """Which URLs and addresses a delivery may reach."""

    def __init__(self, allow: AllowList | None = None):
        self.allow = allow or AllowList()

    @classmethod
    def from_config(cls, config) -> "AddressPolicy":
        return cls(parse_allow_list(config.get("WEBHOOK_ALLOW_PRIVATE_NETWORKS")))

    def check_url(self, url: str) -> Target:
        """Check the shape of *url* (no DNS).

        Raises:
            DeliveryRefused: not http(s), credentials in it, no host, a host that
                is neither a name nor a canonical IP address, a refused literal
                address, or a bad port.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise DeliveryRefused(f"not a valid URL ({error})") from None
        if parts.scheme not in ("http", "https"):
            raise DeliveryRefused("only http and https URLs are allowed")
        if parts.username is not None or parts.password is not None:
            raise DeliveryRefused("credentials in the URL are not allowed")
        raw_host = parts.hostname or ""
        if not raw_host:
            raise DeliveryRefused("the URL has no host")
        port = port or (443 if parts.scheme == "https" else 80)
        if "%" in raw_host:
            raise DeliveryRefused("scoped IPv6 addresses are not allowed")
        if ":" in raw_host:
            try:
                address = ipaddress.IPv6Address(raw_host)
            except ValueError:
                raise DeliveryRefused(f"{raw_host!r} is not an IPv6 address") from None
            self.check_address(address, raw_host)
            return Target(parts.scheme, raw_host, port, address)
        try:
            address = ipaddress.IPv4Address(raw_host)
        except ValueError:
            address = None
        if address is not None:
            self.check_address(address, raw_host)
            return Target(parts.scheme, raw_host, port, address)
        try:
            host = raw_host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise DeliveryRefused(f"{raw_host!r} is not a valid host name") from None
        if not _is_hostname(host.rstrip(".")):
            raise DeliveryRefused(
                f"{raw_host!r} is neither a host name nor a dotted IPv4 address"
            )
        return Target(parts.scheme, host, port, None)

    def check_address(self, address: IPAddress, host: str = "") -> None:
        """Raises: DeliveryRefused: *address* is refused and not allowed."""
        if host.lower().rstrip(".") in self.allow.hosts:
            return
        if self.allow.allows_address(address):
            return
        reason = refusal_reason(address)
        if reason is None:
            return
        if host and not _is_literal(host, address):
            raise DeliveryRefused(f"{host} resolves to {address}, {reason}")
        raise DeliveryRefused(f"{host or address} is {reason}")

    def resolve(self, host: str, port: int) -> list[str]:
        """Resolve *host* and return its addresses, all of them checked.

        Raises:
            DeliveryRefused: any address it resolves to is refused.
            socket.gaierror: it does not resolve.
        """
        host = host.strip("[]")
        infos = socket.getaddrinfo(
            host, port, urllib3_connection.allowed_gai_family(), socket.SOCK_STREAM
        )
        addresses = []
        for family, _, _, _, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(sockaddr[0].split("%")[0])
            if isinstance(address, ipaddress.IPv6Address) and sockaddr[3]:
                raise DeliveryRefused(f"{host} resolves to a scoped address")
            self.check_address(address, host)
            if str(address) not in addresses:
                addresses.append(str(address))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "no IPv4 or IPv6 address")
        return addresses


def _is_literal(host: str, address: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == address
    except ValueError:
        return False


class _GuardedConnection:
    """Opens the socket to a checked address of the host, never to another."""

    def __init__(self, *args, address_policy: AddressPolicy, **kwargs):
        super().__init__(*args, **kwargs)
        self.address_policy = address_policy

    def _new_conn(self) -> socket.socket:
        try:
            addresses = self.address_policy.resolve(self._dns_host, self.port)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out."
                ) from error
            except OSError as error:
                last_error = error
                continue
            return sock
        raise NewConnectionError(
            self, f"Failed to establish a new connection: {last_error}"
        ) from last_error


class _GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedPoolManager(urllib3.PoolManager):
    def __init__(self, policy: AddressPolicy, **kwargs):
        super().__init__(**kwargs)
        self.policy = policy
        self.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }

    def _new_pool(self, scheme, host, port, request_context=None):
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.conn_kw["address_policy"] = self.policy
        return pool


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to; ``ok`` for a 2xx answer only."""

    status_code: int | None
    latency_ms: int
    excerpt: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 429 or 503

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _describe(error: Exception) -> str:
    # Order matters: urllib3's NewConnectionError is a ConnectTimeoutError.
    if isinstance(error, NameResolutionError):
        return "could not resolve the host name"
    if isinstance(error, NewConnectionError):
        cause = error.__cause__
        return f"could not connect ({cause})" if cause else "could not connect"
    if isinstance(error, ConnectTimeoutError):
        return "timed out connecting"
    if isinstance(error, ReadTimeoutError):
        return "timed out waiting for the answer"
    if isinstance(error, SSLError):
        return f"TLS error: {error}"
    return f"{type(error).__name__}: {error}"


class Sender:
    """Sends signed webhook bodies; one per worker, safe to share across threads."""

    def __init__(self, policy: AddressPolicy, timeout: float, maxsize: int = 10):
        self.policy = policy
        self.timeout = timeout
        self._pool = _GuardedPoolManager(
            policy,
            num_pools=100,
            maxsize=maxsize,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )

    def close(self) -> None:
        self._pool.clear()

    def send(self, url: str, headers: dict[str, str], body: str) -> Outcome:
        """POST *body* to *url*; never raises for network or HTTP failures."""
        started = time.monotonic()

        def elapsed() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            self.policy.check_url(url)
            response = self._pool.request(
                "POST",
                url,
                body=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    "Accept-Encoding": "identity",
                    **headers,
                },
                redirect=False,
                retries=False,
                preload_content=False,
            )
        except DeliveryRefused as error:
            return Outcome(None, elapsed(), error=f"refused: {error}")
        except (HTTPError, OSError) as error:
            return Outcome(None, elapsed(), error=_describe(error)[:500])
        try:
            excerpt = self._read_excerpt(response)
        except (HTTPError, OSError) as error:
            excerpt, failure = None, _describe(error)
        else:
            failure = None
        status = response.status
        error = failure
        if 300 <= status < 400:
            location = response.headers.get("Location", "")[:300]
            error = f"redirect to {location or '(no Location)'} not followed"
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Outcome(status, elapsed(), excerpt, error, retry_after)

    def _read_excerpt(self, response) -> str:
        length = response.length_remaining
        try:
            if length is not None and length <= KEEPALIVE_BODY_LIMIT:
                data = response.read()
                response.release_conn()
            else:
                # Unknown or large: keep the start, drop the connection.
                data = response.read1(EXCERPT_CHARS * 4)
                response.close()
                response.release_conn()
        except BaseException:
            response.close()
            response.release_conn()
            raise
        return data.decode("utf-8", "replace")[:EXCERPT_CHARS]
