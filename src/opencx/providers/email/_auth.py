"""Reading a trusted relay's ``Authentication-Results`` fields (RFC 8601).

Rules:
- only a field whose authserv-id is one of ``trusted`` counts (compared without case):
  anyone can write the field, and only the relay that received the message over the
  internet could check its sender. A relay prepends its field, so the first trusted one
  is the closest to us; relays are expected to drop incoming fields with their own id
  (RFC 8601, 5), which makes that first field theirs;
- a field that does not parse is skipped, never raised: it proves nothing; only the
  first ``MAX_FIELDS`` are read (our relay's is among the first; a sender can add
  thousands below it);
- the RFC 8601 grammar (comments, quoted strings, property types) is parsed by
  ``authres``, the parser of the dkimpy and pyspf authors.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import authres

__all__ = ["MAX_FIELDS", "RelayResults", "trusted_results"]

#: Fields read per message, from the top.
MAX_FIELDS = 10


@dataclass(frozen=True, slots=True)
class RelayResults:
    """The ``(method, result)`` pairs a trusted relay recorded, and its authserv-id."""

    authserv_id: str
    results: tuple[tuple[str, str], ...]


def trusted_results(fields: Sequence[str], trusted: Collection[str]) -> RelayResults | None:
    """The results of the first field from a trusted authserv-id; ``None`` when none."""
    wanted = {name.strip().lower() for name in trusted if name.strip()}
    if not wanted:
        return None
    for field in fields[:MAX_FIELDS]:
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(field)
        except Exception:  # noqa: S112 (authres raises its own SyntaxError; a bad field proves nothing)
            continue
        authserv_id = str(parsed.authserv_id or "").strip().lower()
        if authserv_id in wanted:
            return RelayResults(
                authserv_id,
                tuple((str(r.method).lower(), str(r.result).lower()) for r in parsed.results),
            )
    return None
