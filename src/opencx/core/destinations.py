"""Which network addresses an admin-configured host may lead the server to.

Rules:
- a destination is refused unless it is a public (globally routable) unicast address:
  loopback, private (RFC 1918, unique local), link-local, carrier-grade NAT, multicast,
  unspecified, documentation, benchmarking and other reserved ranges are all refused;
- an IPv6 address that embeds an IPv4 one (``::ffff:127.0.0.1``, 6to4, NAT64 well-known
  prefix) is judged by the IPv4 address it leads to;
- a host name is judged by every address it resolves to (the caller resolves): one
  refused address refuses the host, so a name cannot mix a public address with an
  internal one, and the caller connects to an address it checked (DNS rebinding).
"""

from __future__ import annotations

import ipaddress

__all__ = ["IPAddress", "refusal"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refusal(address: str) -> str | None:
    """Why the server may not connect to ``address`` (an IP in text), or ``None``."""
    try:
        ip = _embedded(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return f"{address!r} is not an IP address"
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_multicast or ip.is_unspecified:
        return f"{ip} is not a unicast address"
    if not ip.is_global:
        return f"{ip} is a private or reserved address"
    return None


def _embedded(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv4Address):
        return ip
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip
