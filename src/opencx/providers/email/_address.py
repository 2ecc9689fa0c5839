"""A mailbox's address, as an account stores it: a valid e-mail address, lowercased."""

from __future__ import annotations

from pydantic import EmailStr, TypeAdapter, ValidationError

from opencx.core.errors import InvalidInput

__all__ = ["normalise_address"]

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def normalise_address(raw: str) -> str:
    """``support@example.com`` from `` Support@Example.com ``; ``InvalidInput`` when it
    is no e-mail address."""
    try:
        return _EMAIL.validate_python(raw.strip()).lower()
    except ValidationError:
        raise InvalidInput(f"{raw.strip()!r} is not an e-mail address", field="address") from None
