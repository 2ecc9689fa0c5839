"""Is this request from Twilio? ``X-Twilio-Signature``, as Twilio documents it.

The signature is base64(HMAC-SHA1(auth token, URL + parameters)), where the URL is the
one Twilio requested (scheme, host, path and query string, as configured) and the
parameters are the POST parameters sorted by name, each name immediately followed by
its value. The official ``RequestValidator`` (twilio-python) is mirrored here so the
project does not need the whole SDK; the details it settles are kept:

- a port: Twilio may sign the URL with or without its port (``:443`` for https), so
  the URL is tried as given, without any port, and with its port (the default one when
  it names none); as with the official validator, the port itself is not authenticated;
- a repeated parameter contributes each distinct value, values sorted, under its name;
- a JSON body is not signed as parameters: Twilio adds ``bodySHA256`` (hex SHA-256 of
  the raw body) to the URL's query string and signs the URL alone
  (``verify_json_signature``).

Every check refuses a missing header, an empty token and a URL it cannot parse; none
raises.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

from opencx.providers.signatures import keyed_digest, same_signature
from opencx.providers.twilio._params import Params, pairs

__all__ = ["verify_json_signature", "verify_signature"]

_DEFAULT_PORTS = {"https": 443, "http": 80}


def verify_signature(url: str, params: Params, header: str | None, auth_token: str) -> bool:
    """Whether ``header`` signs a form POST (or a GET, with ``params`` empty) to ``url``."""
    if not header or not auth_token:
        return False
    suffix = _signed_params(params)
    return any(
        same_signature(_sign(auth_token, candidate + suffix), header.strip())
        for candidate in _url_forms(url)
    )


def verify_json_signature(url: str, raw_body: bytes, header: str | None, auth_token: str) -> bool:
    """Whether ``header`` signs ``url`` and its ``bodySHA256`` matches ``raw_body``."""
    try:
        declared = parse_qs(urlsplit(url).query).get("bodySHA256", [""])[0]
    except ValueError:
        return False
    if not declared or not same_signature(hashlib.sha256(raw_body).hexdigest(), declared.lower()):
        return False
    return verify_signature(url, {}, header, auth_token)


def _signed_params(params: Params) -> str:
    by_name: dict[str, set[str]] = {}
    for name, value in pairs(params):
        by_name.setdefault(name, set()).add(value)
    return "".join(name + value for name in sorted(by_name) for value in sorted(by_name[name]))


def _sign(auth_token: str, data: str) -> str:
    digest = keyed_digest(
        auth_token, data.encode("utf-8", errors="surrogatepass"), algorithm="sha1"
    )
    return base64.b64encode(digest).decode("ascii")


def _url_forms(url: str) -> set[str]:
    """``url`` as given, with its port and without it."""
    forms = {url}
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return forms
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = hostport.rsplit(":", 1)[0] if parts.port else hostport
    at = f"{userinfo}@" if userinfo else ""
    forms.add(parts._replace(netloc=f"{at}{host}").geturl())
    if port is not None:
        forms.add(parts._replace(netloc=f"{at}{host}:{port}").geturl())
    return forms
