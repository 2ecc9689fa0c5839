"""Google Play, App Store Connect and X as their documentation describes them, for the
public channel tests: answered in-process through the context's HTTP port
(``public_providers_on``: ``PublicProviders.http``, a ``FakeHttp``), or served over
real HTTP on a local port (``serve_public_providers``) where the test is about the real
transport.

The doubles check what the real APIs check: Google's token endpoint takes only the
``jwt-bearer`` grant with an assertion signed (RS256) by the service account's key,
for the androidpublisher scope, and the API only the access tokens it issued; App
Store Connect verifies the ES256 JWT with the API key's public key (``kid``, ``iss``,
``aud``, a lifetime of 20 minutes at most); X takes only the user tokens it issued,
until they expire (two hours, on the test's clock: ``now``), and refreshes them at
``POST /2/oauth2/token`` as X does: the client authenticated (Basic auth, or its id in
the form for a public client), each refresh token good for one refresh (a used or
revoked one is refused with X's ``invalid_request``). They answer with the documented
bodies and pagination (``tokenPagination``, ``links.next``, ``meta.next_token``,
``since_id``), a few items per page. A test queues refusals (``fail_next``: status,
body, headers) for the next API calls, and can hold X's refreshes (``x_token_gate``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from opencx.features.context import AppContext
from opencx.testing import FakeHttp
from tests.integration.local_server import serving_transport

PACKAGE = "com.example.notes"
GOOGLE_CLIENT_EMAIL = "reviews@notes-reviews.iam.gserviceaccount.com"
GOOGLE_KEY_ID = "4f1c2d3e5a6b7c8d9e0f"
GOOGLE_SCOPE = "https://www.googleapis.com/auth/androidpublisher"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
APP_ID = "682658836"
ISSUER_ID = "57246542-96fe-1a63-e053-0824d011072a"
APPLE_KEY_ID = "2X9R4HXF34"
X_USER_ID = "783214"
X_TOKEN = "x-user-access-token-Zm9vYmFyYmF6"
X_CLIENT_ID = "M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ"
X_CLIENT_SECRET = "pQ3a-x7Yf_1kLmN0pQrStUvWxYz23456789AbCdEfGhIjKlMnO"
X_TOKEN_LIFETIME = timedelta(hours=2)
#: Where the doubles answer in-process: a name that resolves nowhere (RFC 2606), so a
#: request that missed the fake fails instead of leaving the machine.
FAKE_URL = "https://providers.test"


@dataclass(frozen=True)
class Call:
    """One request the doubles accepted as well-formed."""

    provider: str  # "google", "apple" or "x"
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class PublicProviders:
    url: str = FAKE_URL
    http: FakeHttp = field(default_factory=FakeHttp)
    google_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    apple_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    play_reviews: list[dict[str, Any]] = field(default_factory=list)
    app_reviews: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    page_size: int = 2
    calls: list[Call] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why requests were turned away
    fail_next: deque[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=deque)
    issued: set[str] = field(default_factory=set)
    next_post_id: int = 1876010203040506070
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # X's tokens' clock
    # X: access tokens and when they expire (None: never, X_TOKEN), live refresh tokens.
    x_access: dict[str, datetime | None] = field(default_factory=lambda: {X_TOKEN: None})
    x_refresh: set[str] = field(default_factory=set)
    x_public_client: bool = False  # a public client: no secret, its id in the form
    x_token_gate: asyncio.Event | None = None  # when set up, refreshes wait for it
    x_token_waiting: asyncio.Event = field(default_factory=asyncio.Event)  # one waits

    def __post_init__(self) -> None:
        route = self.http.route
        route("POST", "/token", self.google_token)
        reviews = "/androidpublisher/v3/applications/{package}/reviews"
        route("GET", reviews, self.google_reviews)
        route("POST", reviews + "/{target}", self.google_reply)
        route("GET", "/v1/apps/{app_id}/customerReviews", self.apple_reviews)
        route("POST", "/v1/customerReviewResponses", self.apple_response)
        route("GET", "/2/users/{user_id}/mentions", self.x_mentions)
        route("POST", "/2/tweets", self.x_post)
        route("POST", "/2/oauth2/token", self.x_token)

    # --- credentials, as the admin enters them --------------------------------------------

    def service_account_key(self) -> str:
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "notes-reviews",
                "private_key_id": GOOGLE_KEY_ID,
                "private_key": _pem(self.google_key),
                "client_email": GOOGLE_CLIENT_EMAIL,
                "client_id": "104729384756102938475",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )

    def app_store_key(self) -> str:
        return _pem(self.apple_key)

    def x_connect(self, *, expires_in: timedelta = X_TOKEN_LIFETIME) -> dict[str, str]:
        """The tokens X gives an account authorized with ``offline.access``, as the
        credential an admin enters (with the client secret of a confidential app)."""
        access, refresh = self._x_issue(expires_in)
        credential = {
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": (self.now() + expires_in).isoformat(),
        }
        if not self.x_public_client:
            credential["client_secret"] = X_CLIENT_SECRET
        return credential

    def x_revoke(self) -> None:
        """The user revoked the app: every token X gave it stops working."""
        self.x_access = {X_TOKEN: None}
        self.x_refresh.clear()

    def calls_to(self, provider: str, method: str = "GET") -> list[Call]:
        return [c for c in self.calls if c.provider == provider and c.method == method]

    # --- Google -------------------------------------------------------------------------

    async def google_token(self, request: httpx.Request, _path: dict[str, str]) -> httpx.Response:
        form = _form(request)
        if form.get("grant_type") != JWT_BEARER:
            return self._refuse("google token: grant", 400, _oauth_error("unsupported_grant_type"))
        assertion = str(form.get("assertion", ""))
        try:
            claims = jwt.decode(
                assertion,
                self.google_key.public_key(),
                algorithms=["RS256"],
                audience=f"{self.url}/token",
                issuer=GOOGLE_CLIENT_EMAIL,
                options={"verify_exp": False, "verify_iat": False},  # signed by a fake clock
            )
        except jwt.PyJWTError as exc:
            return self._refuse(f"google token: {exc}", 400, _oauth_error("invalid_grant"))
        if (
            claims.get("scope") != GOOGLE_SCOPE
            or not 0 < claims["exp"] - claims["iat"] <= 3600
            or jwt.get_unverified_header(assertion).get("kid") != GOOGLE_KEY_ID
        ):
            return self._refuse("google token: claims", 400, _oauth_error("invalid_scope"))
        token = "ya29." + secrets.token_urlsafe(24)
        self.issued.add(token)
        return _json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    async def google_reviews(self, request: httpx.Request, path: dict[str, str]) -> httpx.Response:
        refused = self._google_auth(request)
        if refused is not None:
            return refused
        if path["package"] != PACKAGE:
            return _json(_google_error(404, "Package not found", "NOT_FOUND"), 404)
        params = dict(request.url.params)
        self.calls.append(Call("google", "GET", request.url.path, params))
        if (failure := self._failure()) is not None:
            return failure
        ordered = sorted(self.play_reviews, key=_last_modified, reverse=True)
        start = int(params.get("token") or "0")
        size = min(int(params.get("maxResults", "10")), self.page_size)
        chunk = ordered[start : start + size]
        more = start + size < len(ordered)
        return _json(
            {
                "reviews": chunk,
                "pageInfo": {
                    "startIndex": start,
                    "totalResults": len(ordered),
                    "resultPerPage": size,
                },
                "tokenPagination": {"nextPageToken": str(start + size)} if more else {},
            }
        )

    async def google_reply(self, request: httpx.Request, path: dict[str, str]) -> httpx.Response:
        refused = self._google_auth(request)
        if refused is not None:
            return refused
        target = path["target"]
        review_id, colon, verb = target.rpartition(":")
        body = json.loads(request.content)
        review = next((r for r in self.play_reviews if r["reviewId"] == review_id), None)
        if not colon or verb != "reply" or review is None:
            return _json(_google_error(404, "Review not found.", "NOT_FOUND"), 404)
        text = body.get("replyText") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text or len(text) > 350:
            return self._refuse(
                "google reply: text", 400, _google_error(400, "Invalid reply.", "INVALID_ARGUMENT")
            )
        self.calls.append(Call("google", "POST", request.url.path, json=body))
        if (failure := self._failure()) is not None:
            return failure
        now = time.time_ns()
        edited = {"seconds": str(now // 10**9), "nanos": now % 10**9}
        review["comments"] = [c for c in review["comments"] if "developerComment" not in c] + [
            {"developerComment": {"text": text, "lastModified": edited}}
        ]
        return _json({"result": {"replyText": text, "lastEdited": edited}})

    def _google_auth(self, request: httpx.Request) -> httpx.Response | None:
        if _bearer(request) in self.issued:
            return None
        error = _google_error(
            401, "Request had invalid authentication credentials.", "UNAUTHENTICATED"
        )
        return self._refuse("google: bearer", 401, error)

    # --- Apple --------------------------------------------------------------------------

    async def apple_reviews(self, request: httpx.Request, path: dict[str, str]) -> httpx.Response:
        refused = self._apple_auth(request)
        if refused is not None:
            return refused
        params = dict(request.url.params)
        self.calls.append(Call("apple", "GET", request.url.path, params))
        if path["app_id"] != APP_ID:
            return _json(
                _apple_error(404, "NOT_FOUND", "The specified resource does not exist"), 404
            )
        if (failure := self._failure()) is not None:
            return failure
        if params.get("sort") != "-createdDate":
            return self._refuse(
                "apple: sort", 400, _apple_error(400, "PARAMETER_ERROR.INVALID", "sort")
            )
        ordered = sorted(self.app_reviews, key=_created, reverse=True)
        start = int(params.get("cursor") or "0")
        size = min(int(params.get("limit", "50")), self.page_size)
        base = f"{self.url}/v1/apps/{APP_ID}/customerReviews"
        links = {"self": f"{base}?sort=-createdDate&limit={size}"}
        if start + size < len(ordered):
            links["next"] = f"{base}?cursor={start + size}&sort=-createdDate&limit={size}"
        return _json(
            {
                "data": ordered[start : start + size],
                "links": links,
                "meta": {"paging": {"total": len(ordered), "limit": size}},
            }
        )

    async def apple_response(self, request: httpx.Request, _path: dict[str, str]) -> httpx.Response:
        refused = self._apple_auth(request)
        if refused is not None:
            return refused
        body = json.loads(request.content)
        data = body.get("data") if isinstance(body, dict) else None
        text, review = _response_parts(data)
        if text is None or review is None:
            return self._refuse(
                "apple response: body", 422, _apple_error(422, "ENTITY_UNPROCESSABLE", "malformed")
            )
        if not any(r["id"] == review["id"] for r in self.app_reviews):
            return _json(_apple_error(404, "NOT_FOUND", "There is no review with this id"), 404)
        self.calls.append(Call("apple", "POST", request.url.path, json=body))
        if (failure := self._failure()) is not None:
            return failure
        modified = datetime.now(UTC).replace(microsecond=0).isoformat()
        resource = {
            "type": "customerReviewResponses",
            "id": f"resp-{review['id']}",
            "attributes": {
                "responseBody": text,
                "lastModifiedDate": modified,
                "state": "PENDING_PUBLISH",
            },
            "relationships": {"review": {"data": review}},
        }
        return _json({"data": resource, "links": {"self": request.url.path}}, 201)

    def _apple_auth(self, request: httpx.Request) -> httpx.Response | None:
        token = _bearer(request)
        try:
            claims = jwt.decode(
                token,
                self.apple_key.public_key(),
                algorithms=["ES256"],
                audience="appstoreconnect-v1",
                issuer=ISSUER_ID,
                options={"verify_exp": False, "verify_iat": False},  # signed by a fake clock
            )
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            return self._refuse(f"apple: {exc}", 401, _apple_unauthorized())
        if header.get("kid") != APPLE_KEY_ID or header.get("typ") != "JWT":
            return self._refuse("apple: header", 401, _apple_unauthorized())
        if not 0 < claims["exp"] - claims["iat"] <= 20 * 60:
            return self._refuse("apple: lifetime", 401, _apple_unauthorized())
        return None

    # --- X ------------------------------------------------------------------------------

    async def x_token(self, request: httpx.Request, _path: dict[str, str]) -> httpx.Response:
        form = _form(request)
        if form.get("grant_type") != "refresh_token":
            return self._refuse("x token: grant", 400, _x_oauth_error("unsupported_grant_type"))
        refused = self._x_client(request, str(form.get("client_id", "")))
        if refused is not None:
            return refused
        if self.x_token_gate is not None:
            self.x_token_waiting.set()
            await self.x_token_gate.wait()
        self.calls.append(Call("x-oauth", "POST", request.url.path))
        if (failure := self._failure()) is not None:
            return failure
        refresh = str(form.get("refresh_token", ""))
        if refresh not in self.x_refresh:
            return self._refuse("x token: refresh token", 400, _x_oauth_error("invalid_request"))
        self.x_refresh.discard(refresh)  # rotated: good for one refresh only
        access, fresh = self._x_issue(X_TOKEN_LIFETIME)
        return _json(
            {
                "token_type": "bearer",
                "expires_in": int(X_TOKEN_LIFETIME.total_seconds()),
                "access_token": access,
                "scope": "tweet.read users.read tweet.write offline.access",
                "refresh_token": fresh,
            }
        )

    def _x_client(self, request: httpx.Request, form_client_id: str) -> httpx.Response | None:
        if self.x_public_client:
            ok = form_client_id == X_CLIENT_ID
        else:
            pair = base64.b64encode(f"{X_CLIENT_ID}:{X_CLIENT_SECRET}".encode()).decode()
            ok = request.headers.get("authorization", "") == f"Basic {pair}"
        if ok:
            return None
        error = _x_oauth_error("unauthorized_client")
        return self._refuse("x token: client", 401, error)

    def _x_issue(self, lifetime: timedelta) -> tuple[str, str]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.x_access[access] = self.now() + lifetime
        self.x_refresh.add(refresh)
        return access, refresh

    def _x_auth(self, request: httpx.Request) -> httpx.Response | None:
        token = _bearer(request)
        if token in self.x_access:
            expires = self.x_access[token]
            if expires is None or self.now() < expires:
                return None
        return self._refuse("x: token", 401, _x_unauthorized())

    async def x_mentions(self, request: httpx.Request, path: dict[str, str]) -> httpx.Response:
        if (refused := self._x_auth(request)) is not None:
            return refused
        params = dict(request.url.params)
        self.calls.append(Call("x", "GET", request.url.path, params))
        if path["user_id"] != X_USER_ID:
            return _json({"title": "Not Found Error", "detail": "user", "status": 404}, 404)
        if (failure := self._failure()) is not None:
            return failure
        since = int(params.get("since_id") or "0")
        found = [
            p for p in self.posts if int(p["id"]) > since and X_USER_ID in p.get("mentions", ())
        ]
        if "start_time" in params:
            found = [
                p for p in found if p["created_at"] >= params["start_time"].replace("Z", ".000Z")
            ]
        ordered = sorted(found, key=lambda p: int(p["id"]), reverse=True)
        start = int(params.get("pagination_token") or "0")
        size = min(int(params.get("max_results", "10")), self.page_size)
        chunk = [_public(p) for p in ordered[start : start + size]]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if chunk:
            meta.update(newest_id=chunk[0]["id"], oldest_id=chunk[-1]["id"])
        if start + size < len(ordered):
            meta["next_token"] = str(start + size)
        answer: dict[str, Any] = {"meta": meta}
        if chunk:
            authors = {p["author_id"] for p in chunk}
            answer["data"] = chunk
            answer["includes"] = {
                "users": [self.users[a] for a in sorted(authors) if a in self.users]
            }
        return _json(answer, headers=_x_limits())

    async def x_post(self, request: httpx.Request, _path: dict[str, str]) -> httpx.Response:
        if (refused := self._x_auth(request)) is not None:
            return refused
        body = json.loads(request.content)
        text = body.get("text") if isinstance(body, dict) else None
        reply = body.get("reply") if isinstance(body, dict) else None
        in_reply_to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if not isinstance(text, str) or not any(p["id"] == in_reply_to for p in self.posts):
            return self._refuse(
                "x post: body",
                400,
                {
                    "title": "Invalid Request",
                    "status": 400,
                    "detail": "One or more parameters to your request was invalid.",
                },
            )
        self.calls.append(Call("x", "POST", request.url.path, json=body))
        if (failure := self._failure()) is not None:
            return failure
        post_id = str(self.next_post_id)
        self.next_post_id += 1
        return _json(
            {"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}},
            201,
            headers=_x_limits(),
        )

    # --- shared -------------------------------------------------------------------------

    def _failure(self) -> httpx.Response | None:
        if not self.fail_next:
            return None
        status, body, headers = self.fail_next.popleft()
        return _json(body, status, headers=headers)

    def _refuse(self, why: str, status: int, body: dict[str, Any]) -> httpx.Response:
        self.refused.append(why)
        return _json(body, status)


@asynccontextmanager
async def public_providers_on(ctx: AppContext) -> AsyncIterator[PublicProviders]:
    """The three doubles answering through ``ctx``'s HTTP port, for the block."""
    providers = PublicProviders()
    ctx.http = providers.http
    try:
        yield providers
    finally:
        if providers.x_token_gate is not None:
            providers.x_token_gate.set()  # let held refreshes finish


@asynccontextmanager
async def serve_public_providers() -> AsyncIterator[PublicProviders]:
    """The three doubles on one free local port, over real HTTP, for the block."""
    providers = PublicProviders()
    async with serving_transport(providers.http) as url:
        providers.url = url
        yield providers


def _json(
    body: dict[str, Any], status: int = 200, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


# --- documented bodies --------------------------------------------------------------------


def _response_parts(data: Any) -> tuple[str | None, dict[str, Any] | None]:
    """The text and the review of a customerReviewResponses create request, if well-formed."""
    try:
        text = data["attributes"]["responseBody"]
        review = data["relationships"]["review"]["data"]
    except (KeyError, TypeError):
        return None, None
    if data.get("type") != "customerReviewResponses" or review.get("type") != "customerReviews":
        return None, None
    return (text if isinstance(text, str) and text else None), review


def _bearer(request: httpx.Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme == "Bearer" else ""


def _last_modified(review: dict[str, Any]) -> tuple[int, int]:
    stamp = review["comments"][0]["userComment"]["lastModified"]
    return int(stamp["seconds"]), int(stamp.get("nanos", 0))


def _created(review: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(review["attributes"]["createdDate"])


def _public(post: dict[str, Any]) -> dict[str, Any]:
    """A post as X serves it (without the double's bookkeeping)."""
    return {key: value for key, value in post.items() if key != "mentions"}


def _oauth_error(error: str) -> dict[str, Any]:
    descriptions = {"invalid_grant": "Invalid JWT Signature."}
    return {"error": error, "error_description": descriptions.get(error, error)}


def google_error_body(code: int, message: str, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


_google_error = google_error_body


def apple_error_body(status: int, code: str, detail: str) -> dict[str, Any]:
    return {
        "errors": [
            {"status": str(status), "code": code, "title": "Request refused", "detail": detail}
        ]
    }


_apple_error = apple_error_body


def _apple_unauthorized() -> dict[str, Any]:
    return {
        "errors": [
            {
                "status": "401",
                "code": "NOT_AUTHORIZED",
                "title": "Authentication credentials are missing or invalid.",
                "detail": "Provide a properly configured and signed bearer token, and make sure "
                "that it has not expired.",
            }
        ]
    }


def _x_unauthorized() -> dict[str, Any]:
    return {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}


def _x_oauth_error(error: str) -> dict[str, Any]:
    descriptions = {
        "invalid_request": "Value passed for the token was invalid.",
        "unauthorized_client": "Missing valid authorization header",
    }
    return {"error": error, "error_description": descriptions.get(error, error)}


def _x_limits() -> dict[str, str]:
    return {
        "x-rate-limit-limit": "450",
        "x-rate-limit-remaining": "449",
        "x-rate-limit-reset": str(int(time.time()) + 900),
    }
