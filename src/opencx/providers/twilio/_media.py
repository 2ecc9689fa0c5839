"""Fetching an MMS or WhatsApp file Twilio holds (``MediaUrl{N}``).

Twilio answers the media URL with the file, or with a redirect to it; with "HTTP Basic
Authentication for media access" turned on (recommended) it needs the Account SID and
auth token, which are sent whenever both are configured. A redirect to another host
must not carry them (the HTTP client drops ``Authorization`` across origins).
"""

from __future__ import annotations

import base64

from opencx.providers.rest import ApiRequest

__all__ = ["media_request"]


def media_request(url: str, *, account_sid: str | None, auth_token: str | None) -> ApiRequest:
    if not account_sid or not auth_token:
        return ApiRequest("GET", url)
    credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
    return ApiRequest("GET", url, headers={"Authorization": f"Basic {credentials}"})
