"""The job registry: a name for each job function, shared by both runners.

A job is ``async def fn(ctx: AppContext, **args) -> None`` registered with
``@job("name")``; its body is a thin call into one service of ``opencx.features``.
Arguments travel as JSON, so they are plain values (ids, strings, numbers), never rows.
Jobs run at least once, so each must be idempotent.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Concatenate

from opencx.core.errors import InvalidInput
from opencx.features.context import AppContext

__all__ = [
    "JobDefinition",
    "JobFunction",
    "JobRegistry",
    "UnknownJob",
    "default_registry",
    "job",
    "registry",
]

JobFunction = Callable[Concatenate[AppContext, ...], Awaitable[None]]


class UnknownJob(LookupError):
    """A job row names a task no job function is registered under."""


@dataclass(frozen=True, slots=True)
class JobDefinition:
    """One registered job; ``every`` makes it periodic (deferred once per period)."""

    name: str
    fn: JobFunction
    every: timedelta | None = None

    async def run(self, ctx: AppContext, args: Mapping[str, Any]) -> None:
        """Call the job with its stored arguments; arguments that do not fit raise
        ``InvalidInput``, which is never retried (the same call would fail again)."""
        try:
            inspect.signature(self.fn).bind(ctx, **args)
        except TypeError as exc:
            raise InvalidInput(f"bad arguments for job {self.name!r}: {exc}") from None
        await self.fn(ctx, **args)


class JobRegistry:
    """Job functions by name. Tests build their own; OpenCX's jobs use ``registry``."""

    def __init__(self) -> None:
        self._jobs: dict[str, JobDefinition] = {}

    def job(
        self, name: str, *, every: timedelta | None = None
    ) -> Callable[[JobFunction], JobFunction]:
        """Register the decorated function under ``name`` (periodic when ``every``)."""
        if every is not None and every <= timedelta(0):
            raise ValueError("a periodic job needs a positive period")

        def register(fn: JobFunction) -> JobFunction:
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"job {name!r} must be an async function")
            if name in self._jobs:
                raise ValueError(f"a job named {name!r} is already registered")
            self._jobs[name] = JobDefinition(name=name, fn=fn, every=every)
            return fn

        return register

    def get(self, name: str) -> JobDefinition:
        try:
            return self._jobs[name]
        except KeyError:
            known = ", ".join(sorted(self._jobs)) or "none"
            raise UnknownJob(
                f"no job is registered under the name {name!r} (known jobs: {known})"
            ) from None

    def periodic(self) -> list[JobDefinition]:
        return [definition for definition in self if definition.every is not None]

    def __iter__(self) -> Iterator[JobDefinition]:
        return iter(self._jobs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._jobs

    def __len__(self) -> int:
        return len(self._jobs)


#: The registry of the jobs OpenCX ships.
registry = JobRegistry()
job = registry.job


def default_registry() -> JobRegistry:
    """``registry`` with every job module imported (importing a module registers its jobs).

    Adding a job module? Import it here, so that every web node and worker knows it.
    """
    # Importing a module registers its jobs.
    from opencx.jobs import (  # noqa: F401
        channels,
        inbox,
        mailboxes,
        maintenance,
        public_channels,
        reports,
    )

    return registry
