"""Which URLs and addresses a webhook delivery may reach (the SSRF guard).

Only http(s) URLs with a host name or a canonical IP address are called. The
host is resolved once per connection and every address it resolves to is
checked (:mod:`.connections` then opens the socket to the checked address
itself). Loopback, private, link-local, carrier-grade NAT, multicast, reserved
and documentation ranges are refused, as are IPv6 addresses that embed a refused
IPv4 address (mapped, NAT64, 6to4) and Teredo; ``WEBHOOK_ALLOW_PRIVATE_NETWORKS``
lets development and tests reach some of them.
"""

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from urllib3.util import connection as urllib3_connection

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
