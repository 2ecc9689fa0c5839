"""Choosing the bus from its URL: empty for one process, ``redis://``, ``rediss://`` or
``nats://`` for several nodes."""

from __future__ import annotations

from urllib.parse import urlsplit

from opencx.realtime.broker import BrokerBus, Transport
from opencx.realtime.bus import InProcessBus

__all__ = ["BusConfigError", "create_bus"]

_EXTRAS = {"redis": "redis", "rediss": "redis", "nats": "nats"}


class BusConfigError(RuntimeError):
    """The bus URL names an unknown scheme, or its client library is not installed."""


def create_bus(url: str | None, *, channel: str) -> InProcessBus | BrokerBus:
    if not url:
        return InProcessBus()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _EXTRAS:
        raise BusConfigError(
            f"OPENCX_BUS__URL must start with redis://, rediss:// or nats:// (got {scheme!r})"
        )
    return BrokerBus(_transport(scheme, url, channel))


def _transport(scheme: str, url: str, channel: str) -> Transport:
    extra = _EXTRAS[scheme]
    try:
        if extra == "redis":
            from opencx.realtime.redis_bus import RedisTransport

            return RedisTransport(url, channel)
        from opencx.realtime.nats_bus import NatsTransport

        return NatsTransport(url, channel)
    except ImportError as exc:
        raise BusConfigError(
            f"OPENCX_BUS__URL uses {scheme}:// but the {extra} client library is not "
            f"installed ({exc.name} is missing); install it with: pip install 'opencx[{extra}]'"
        ) from None
