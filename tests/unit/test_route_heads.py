"""The API's routes grouped by resource: each request still reaches the route it
reached before, and the other resources' routes are not tried."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from opencx.web.api._heads import HeadRouter, behind_heads


def _modules() -> tuple[APIRouter, APIRouter, APIRouter]:
    first, second, late = APIRouter(), APIRouter(), APIRouter()

    @first.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, Any]:
        return {"by": "first", "thing": thing_id}

    @first.get("/shared/a")
    async def shared_a() -> dict[str, str]:
        return {"by": "first"}

    @second.get("/shared/{name}")
    async def shared(name: str) -> dict[str, str]:
        return {"by": "second", "name": name}

    @second.post("/others")
    async def others() -> dict[str, str]:
        return {"by": "second"}

    @late.get("/late")
    async def late_one() -> dict[str, str]:
        return {"by": "late"}

    return first, second, late


def _app(*modules: APIRouter) -> FastAPI:
    api = APIRouter(prefix="/api/v1")
    for module in modules:
        api.include_router(behind_heads("/api/v1", module))
    app = FastAPI()
    app.include_router(api)
    return app


async def _get(app: FastAPI, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path)


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/api/v1/things/7", 200, {"by": "first", "thing": 7}),
        ("GET", "/api/v1/shared/a", 200, {"by": "first"}),  # the earlier route wins
        ("GET", "/api/v1/shared/z", 200, {"by": "second", "name": "z"}),
        ("POST", "/api/v1/others", 200, {"by": "second"}),
        ("GET", "/api/v1/others", 405, None),
        ("GET", "/api/v1/late", 200, {"by": "late"}),
        ("GET", "/api/v1/nothing", 404, None),
        ("GET", "/api/v1", 404, None),
        ("GET", "/things/7", 404, None),
    ],
)
async def test_each_request_reaches_the_route_it_did(
    method: str, path: str, status: int, body: dict[str, Any] | None
) -> None:
    response = await _get(_app(*_modules()), path, method)
    assert response.status_code == status
    if body is not None:
        assert response.json() == body


async def test_other_resources_routes_are_not_tried() -> None:
    first, second, late = _modules()
    tried: list[str] = []
    for route in second.routes:
        original = route.matches

        def spy(scope: Any, _original: Any = original, _path: str = route.path) -> Any:  # type: ignore[attr-defined]
            tried.append(_path)
            return _original(scope)

        route.matches = spy  # type: ignore[method-assign]
    app = _app(first, second, late)
    assert (await _get(app, "/api/v1/late")).json() == {"by": "late"}
    assert (await _get(app, "/api/v1/things/1")).status_code == 200
    assert tried == []


def test_a_resource_with_a_parameter_first_is_left_as_it_is() -> None:
    router = APIRouter()

    @router.get("/{anything}")
    async def anything_at_all(anything: str) -> str:
        return anything

    assert behind_heads("/api/v1", router) is router
    grouped = behind_heads("/api/v1", _modules()[0])
    assert isinstance(grouped, HeadRouter)
