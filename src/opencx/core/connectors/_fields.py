"""What a connector shows: each mapped field of a business system's answer, labelled
in the reader's language and read as its format says.

Rules:
- a field's value is read from the answer at its path; nothing there (or ``null``)
  shows the field with no value, so the panel always has the same lines;
- ``text`` and ``status`` show text (numbers and booleans as JSON writes them, an
  object or a list as compact JSON), cut at ``MAX_TEXT`` characters;
- ``date`` shows ``YYYY-MM-DD`` (the date part of a date-time, as written);
  ``datetime`` shows an ISO 8601 instant in UTC (``…Z``), from text with an offset or
  from seconds since the epoch; ``money`` shows a number (from a number or numeric
  text) with the field's currency;
- a value that does not read as its format is shown as text (format ``text``) rather
  than dropped: the agent still sees what the system said;
- a label is chosen for the locale asked (``fr_CA``, then ``fr``), else English, else
  the first one given.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from opencx.core.connectors._paths import MISSING, FieldPath

__all__ = [
    "MAX_TEXT",
    "FieldFormat",
    "FieldSpec",
    "Scalar",
    "pick_label",
    "read_fields",
    "read_value",
]

MAX_TEXT = 500
#: Money beyond this is not an amount a panel shows (and big ones cost to convert).
_MAX_MONEY = 10**15
#: The latest instant a ``datetime`` read from epoch seconds may be (year 9999).
_MAX_EPOCH = 253_402_300_799

Scalar = str | int | float | None


class FieldFormat(StrEnum):
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    MONEY = "money"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One line of a connector's mapping."""

    labels: Mapping[str, str]
    path: FieldPath
    format: FieldFormat = FieldFormat.TEXT
    currency: str | None = None


def read_fields(data: Any, specs: Sequence[FieldSpec]) -> tuple[tuple[Scalar, FieldFormat], ...]:
    """Every mapped field of ``data`` (parsed JSON), in the mapping's order: its value
    and the format it reads as."""
    return tuple(read_value(spec.path.resolve(data), spec.format) for spec in specs)


def pick_label(labels: Mapping[str, str], locale: str) -> str:
    tag = locale.replace("-", "_")
    for candidate in (tag, tag.split("_")[0].lower(), "en"):
        for key, label in labels.items():
            if key.replace("-", "_").lower() == candidate.lower():
                return label
    return next(iter(labels.values()), "")


def read_value(raw: Any, fmt: FieldFormat) -> tuple[Scalar, FieldFormat]:
    """``raw`` shown as ``fmt``, or as text when it does not read as ``fmt``."""
    if raw is MISSING or raw is None:
        return None, fmt
    reader = _READERS.get(fmt)
    value = reader(raw) if reader is not None else None
    if value is not None:
        return value, fmt
    as_text = _text(raw)
    return as_text, (FieldFormat.STATUS if fmt is FieldFormat.STATUS else FieldFormat.TEXT)


def _text(raw: Any) -> str:
    text = raw if isinstance(raw, str) else json.dumps(raw, separators=(",", ":"))
    return text[:MAX_TEXT]


def _date(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw[:10]).isoformat() if _iso_date_or_time(raw) else None
    except ValueError:
        return None


def _iso_date_or_time(raw: str) -> bool:
    if len(raw) == 10:
        return True
    try:
        datetime.fromisoformat(raw)
    except ValueError:
        return False
    return True


def _datetime(raw: Any) -> str | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not (math.isfinite(raw) and 0 <= raw <= _MAX_EPOCH):
            return None
        return _utc(datetime.fromtimestamp(raw, UTC))
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None  # no offset: which instant it is cannot be known
    return _utc(moment.astimezone(UTC))


def _utc(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _money(raw: Any) -> int | float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw if math.isfinite(raw) and abs(raw) < _MAX_MONEY else None
    if not isinstance(raw, str):
        return None
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= _MAX_MONEY:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


_READERS = {
    FieldFormat.TEXT: _text,
    FieldFormat.STATUS: _text,
    FieldFormat.DATE: _date,
    FieldFormat.DATETIME: _datetime,
    FieldFormat.MONEY: _money,
}
