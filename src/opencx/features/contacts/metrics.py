"""The intake's Prometheus counters, one set per application context (read at
``/metrics`` beside the HTTP figures): messages to an address no channel account has,
and what became of the media files fetched from providers."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from opencx.features.context import AppContext

__all__ = ["IntakeMetrics", "intake_metrics"]

_KEY = "opencx.intake_metrics"


@dataclass(frozen=True, slots=True)
class IntakeMetrics:
    registry: CollectorRegistry
    #: labels: provider, channel, outcome (``default_queue`` or ``unrouted``)
    unknown_account: Counter
    #: labels: provider, outcome (``stored``, ``failed``, ``retried``)
    media: Counter


def intake_metrics(ctx: AppContext) -> IntakeMetrics:
    """The counters of ``ctx``, made on first use."""
    found = ctx.local.get(_KEY)
    if isinstance(found, IntakeMetrics):
        return found
    registry = CollectorRegistry()
    metrics = IntakeMetrics(
        registry=registry,
        unknown_account=Counter(
            "opencx_inbound_unknown_account",
            "Inbound messages to an address no active channel account has",
            ["provider", "channel", "outcome"],
            registry=registry,
        ),
        media=Counter(
            "opencx_inbound_media",
            "Inbound media files fetched from providers, by outcome",
            ["provider", "outcome"],
            registry=registry,
        ),
    )
    ctx.local[_KEY] = metrics
    return metrics
