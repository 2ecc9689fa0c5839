"""Resolving an admin-configured host and refusing internal destinations (SSRF).

An IMAP host (or any host an admin types into a channel account) is resolved, and every
address it gives is judged by ``opencx.core.destinations.refusal``; the connection is
then made to one of those checked addresses, never by resolving the name again, so a
name that changes its answer between the check and the connection (DNS rebinding)
gains nothing. ``network.allow_private_destinations`` (``OPENCX_NETWORK__ALLOW_PRIVATE_
DESTINATIONS``, default false) lifts the refusal for installations whose mail server
is on their own network, and for tests and demos that use local servers.
"""

from __future__ import annotations

import asyncio
import socket

from opencx.core.destinations import refusal
from opencx.core.errors import InvalidInput

__all__ = ["DestinationRefused", "check_host", "resolve_allowed"]

SETTING = "OPENCX_NETWORK__ALLOW_PRIVATE_DESTINATIONS"


class DestinationRefused(InvalidInput):
    """The host leads to an address the server may not connect to."""


def resolve_allowed(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for ``host`` (blocking: call it off the event loop).

    ``DestinationRefused`` when one of them is internal and that is not allowed;
    ``OSError`` when the name does not resolve."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                raise DestinationRefused(
                    f"host {host!r} is refused: {reason}; set {SETTING}=true to allow it",
                    field="settings.host",
                )
    return addresses


async def check_host(host: str, port: int, *, allow_private: bool) -> None:
    """Refuse ``host`` when it resolves to an internal address; a name that does not
    resolve yet passes (it is checked again at each connection)."""
    if allow_private:
        return
    try:
        await asyncio.to_thread(resolve_allowed, host, port, allow_private=False)
    except OSError:
        return
