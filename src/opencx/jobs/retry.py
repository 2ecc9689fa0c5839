"""The retry policy both runners apply: ``opencx.core.retry`` with OpenCX's numbers."""

from __future__ import annotations

from dataclasses import dataclass

from opencx.core.retry import RetryDecision, get_retry_decision
from opencx.settings import JobsSettings

__all__ = ["DEFAULT_BASE_SECONDS", "DEFAULT_CAP_SECONDS", "JobRetryPolicy"]

#: First retry after 10 s, then 20 s, 40 s… never more than an hour apart.
DEFAULT_BASE_SECONDS = 10.0
DEFAULT_CAP_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class JobRetryPolicy:
    """How many attempts a job gets and how long it waits between them."""

    max_attempts: int
    base_seconds: float = DEFAULT_BASE_SECONDS
    cap_seconds: float = DEFAULT_CAP_SECONDS

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> JobRetryPolicy:
        return cls(max_attempts=settings.max_attempts)

    def decide(self, attempts: int, error: BaseException, *, jitter: float = 0.0) -> RetryDecision:
        """What to do after the ``attempts``-th attempt of a job failed with ``error``."""
        return get_retry_decision(
            attempts,
            error,
            max_attempts=self.max_attempts,
            base_seconds=self.base_seconds,
            cap_seconds=self.cap_seconds,
            jitter=jitter,
        )
