"""One HTTP call to a public provider, and its refusal.

A ``2xx`` gives the answer's bytes; anything else, or no answer, raises ``Refused``
with the provider's words (``ApiError``), never the request (its headers hold the
credential). A refused token exchange or refresh raises ``CredentialRefused``: the
credential is at fault, not the page or the reply being asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from opencx.providers.rest import ApiError, ApiRequest

__all__ = ["CredentialRefused", "ErrorReader", "Refused", "call_api"]

ErrorReader = Callable[[int | None, Mapping[str, str], bytes], ApiError]


class Refused(Exception):
    """The provider refused the call, or never answered."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.describe())
        self.error = error


class CredentialRefused(Refused):
    """The provider would not give an access token for the account's credential."""


async def call_api(
    http: httpx.AsyncClient,
    request: ApiRequest,
    label: str,
    read_error: ErrorReader,
    *,
    refused: type[Refused] = Refused,
) -> bytes:
    try:
        response = await http.request(
            request.method,
            request.url,
            params=dict(request.params) or None,
            json=request.json,
            data=request.form,
            headers=dict(request.headers),
        )
    except httpx.HTTPError as exc:
        raise refused(
            ApiError(label, None, f"no answer ({type(exc).__name__})", retryable=True)
        ) from None
    if response.is_success:
        return response.content
    raise refused(read_error(response.status_code, response.headers, response.content))
