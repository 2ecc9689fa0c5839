"""Twilio's incoming-message webhook as Twilio sends it: form parameters signed with the
auth token (``X-Twilio-Signature``: base64 HMAC-SHA1 of the URL and the parameters
sorted by name, each name followed by its value), posted to our server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from urllib.parse import urlencode

import httpx

PUBLIC_URL = "https://support.example.com"


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


async def post_sms(
    http: httpx.AsyncClient,
    auth_token: str,
    *,
    sender: str,
    to: str,
    body: str = "",
    media: Sequence[tuple[str, str]] = (),
    sid: str | None = None,
) -> httpx.Response:
    """An incoming SMS or MMS (``media``: URL and declared type of each file)."""
    params = [
        ("AccountSid", "AC00000000000000000000000000000001"),
        ("MessageSid", sid or "SM" + secrets.token_hex(16)),
        ("From", sender),
        ("To", to),
        ("Body", body),
        ("NumMedia", str(len(media))),
    ]
    for n, (url, content_type) in enumerate(media):
        params += [(f"MediaUrl{n}", url), (f"MediaContentType{n}", content_type)]
    path = "/webhooks/twilio/sms"
    signature = twilio_signature(auth_token, PUBLIC_URL + path, params)
    return await http.post(
        path,
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
