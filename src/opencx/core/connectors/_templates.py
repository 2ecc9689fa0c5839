"""URL templates: an admin's address of a business system, with the customer's values
filled in.

Rules:
- a template is an absolute ``http`` or ``https`` URL of at most ``MAX_TEMPLATE``
  characters, with a host, no user name or password in it (credentials are the
  connector's auth) and no fragment;
- placeholders (``{customer.id}``, ``{customer.external_id}``, ``{customer.email}``,
  ``{customer.phone}``, ``{customer.attributes.NAME}``) may stand in the path and the
  query only: the scheme, host and port are the admin's, whatever a customer's values
  are; any other ``{`` or ``}`` is refused, so a typo is an error, not a literal;
- each value is percent-encoded whole (``/``, ``?``, ``#``, ``@``, ``&``, ``=`` and ``%``
  included) and a value of only dots has its dots encoded, so it can neither end its
  path segment or query parameter nor climb out of the path (``..``);
- a placeholder with no value (an empty one included) leaves the URL unfilled
  (``None``): the connector does not apply to that customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import quote, urlsplit

from opencx.core.errors import InvalidInput

__all__ = [
    "ATTRIBUTE_PREFIX",
    "MAX_TEMPLATE",
    "PLACEHOLDERS",
    "UrlTemplate",
    "parse_url_template",
]

MAX_TEMPLATE = 2000
#: The placeholders with a fixed name; ``customer.attributes.NAME`` reads any attribute.
PLACEHOLDERS = ("customer.id", "customer.external_id", "customer.email", "customer.phone")
ATTRIBUTE_PREFIX = "customer.attributes."

_PLACEHOLDER = re.compile(
    r"\{(customer\.(?:id|external_id|email|phone|attributes\.[A-Za-z0-9_-]{1,64}))\}"
)
# Stands for a placeholder while the URL's shape is checked: letters only, so it reads
# as one harmless path character sequence.
_MARK = "OPENCXPLACEHOLDER"


@dataclass(frozen=True, slots=True)
class UrlTemplate:
    """A checked template: literal text and placeholder names, alternating."""

    text: str
    parts: tuple[str, ...]  # literal, name, literal, name, …, literal

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.parts[1::2])

    def missing(self, values: Mapping[str, str | None]) -> list[str]:
        """The placeholders with no value, in the order they appear."""
        return list(dict.fromkeys(name for name in self.parts[1::2] if not values.get(name)))

    def fill(self, values: Mapping[str, str | None]) -> str | None:
        """The URL for these values, or ``None`` when a placeholder has none."""
        out: list[str] = []
        for index, part in enumerate(self.parts):
            if index % 2 == 0:
                out.append(part)
                continue
            value = values.get(part)
            if not value:
                return None
            out.append(_encode(value))
        return "".join(out)


def parse_url_template(text: str) -> UrlTemplate:
    """The template, or ``InvalidInput`` (field ``url_template``) saying what is wrong."""
    if len(text) > MAX_TEMPLATE:
        _refuse(f"is longer than {MAX_TEMPLATE} characters")
    parts = tuple(_PLACEHOLDER.split(text))
    literals = parts[0::2]
    if any("{" in literal or "}" in literal for literal in literals):
        known = ", ".join("{" + name + "}" for name in (*PLACEHOLDERS, ATTRIBUTE_PREFIX + "NAME"))
        _refuse(f"has a stray brace or an unknown placeholder (known: {known})")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        _refuse("contains spaces or control characters (percent-encode them)")
    _check_shape(_MARK.join(literals), text)
    return UrlTemplate(text=text, parts=parts)


def _check_shape(marked: str, text: str) -> None:
    try:
        url = urlsplit(marked)
    except ValueError as exc:
        _refuse(f"is not a valid URL ({exc})")
    if url.scheme not in ("http", "https"):
        _refuse("must be an http:// or https:// URL")
    if _MARK in url.netloc:
        _refuse("has a placeholder in its host: placeholders go in the path or the query")
    if "@" in url.netloc:
        _refuse("holds a user name or password: use the connector's auth instead")
    try:
        url.port  # noqa: B018 - reading it checks it
    except ValueError as exc:
        _refuse(f"is not a valid URL ({exc})")
    if not url.hostname:
        _refuse("has no host")
    if "#" in text:
        _refuse("has a fragment (#), which is never sent")


def _encode(value: str) -> str:
    encoded = quote(value, safe="")
    if encoded.strip(".") == "":
        return encoded.replace(".", "%2E")
    return encoded


def _refuse(why: str) -> NoReturn:
    raise InvalidInput(f"url_template {why}", field="url_template")
