"""A resource's routes behind a test of the path's first segment.

Matching a request walks the routes in order, each a regular expression: a request to
a resource listed late (a conversation's messages) tried a hundred routes before its
own, twice (FastAPI matches once to choose, once more to handle), about half a
millisecond a request. A ``HeadRouter`` holds the routes of one resource module and
knows the first segments of their paths (``conversations``, ``messages``…): a request
whose path starts otherwise is not its own, known from one string test, and its routes
are not tried. It changes which routes are tried, never which one answers: the routes
it skips could not have matched.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.types import Scope

__all__ = ["HeadRouter", "behind_heads"]


class HeadRouter(APIRouter):
    """Matches only paths under ``prefix`` whose next segment is one of ``heads``."""

    def __init__(self, prefix: str, heads: frozenset[str]) -> None:
        super().__init__()
        self._under = prefix + "/"
        self._heads = heads

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = _route_path(scope)
        if not path.startswith(self._under):
            return Match.NONE, {}
        if path[len(self._under) :].partition("/")[0] not in self._heads:
            return Match.NONE, {}
        return super().matches(scope)


def behind_heads(prefix: str, router: APIRouter) -> APIRouter:
    """``router`` (included under ``prefix``) inside a ``HeadRouter``, or ``router``
    itself where one of its routes starts with a parameter or is not a plain route."""
    heads = {_head(route) for route in router.routes}
    if None in heads:
        return router
    guarded = HeadRouter(prefix, frozenset(head for head in heads if head is not None))
    guarded.include_router(router)
    return guarded


def _route_path(scope: Scope) -> str:
    """The path the routes match: the request's, less the app's ``root_path``."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


def _head(route: BaseRoute) -> str | None:
    if not isinstance(route, Route | WebSocketRoute):
        return None
    head = route.path.removeprefix("/").partition("/")[0]
    return None if not head or "{" in head else head
