"""Media a customer sends through a provider (an MMS image, a WhatsApp document, a
Messenger photo): the life of its attachment and which fetched files are kept. Pure.

Lifecycle (``AttachmentStatus``): an attachment whose file the provider holds is stored
``pending`` with its message; fetching it makes it ``stored`` (its bytes in the blob
store) or ``failed`` (with a reason an agent reads). ``stored`` and ``failed`` are final:
a repeated fetch of either changes nothing.

Which files are kept (``judge_media``), in order:

1. a file larger than ``max_bytes`` is refused, naming the limit;
2. its type is what its bytes show when their signature is known (``detected``),
   else the type declared by the provider;
3. that type must match one of ``allowed`` (``fnmatch`` patterns such as ``image/*``,
   compared lower-case without parameters);
4. bytes with no known signature are kept only under a declared type whose signature
   is not known either (plain text, a vCard): a file declared ``image/jpeg`` that is not
   a JPEG is refused as not what it claims.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

__all__ = ["FINAL_STATUSES", "AttachmentStatus", "MediaVerdict", "bare_type", "judge_media"]


class AttachmentStatus(StrEnum):
    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"


FINAL_STATUSES = frozenset({AttachmentStatus.STORED, AttachmentStatus.FAILED})


@dataclass(frozen=True, slots=True)
class MediaVerdict:
    """Kept under ``content_type``, or refused (``content_type`` is ``None``) for
    ``reason``."""

    content_type: str | None
    reason: str | None = None

    @property
    def kept(self) -> bool:
        return self.content_type is not None


def bare_type(raw: str | None) -> str:
    """``image/jpeg`` from ``Image/JPEG; charset=x``; empty when there is none."""
    return (raw or "").split(";", 1)[0].strip().lower()


def judge_media(
    *,
    size: int,
    declared: str | None,
    detected: str | None,
    recognisable: Collection[str],
    allowed: Iterable[str],
    max_bytes: int,
) -> MediaVerdict:
    """Whether a fetched file is kept, and under which type (see the module rules).
    ``recognisable`` are the types whose signature the detector knows."""
    if size > max_bytes:
        return MediaVerdict(None, f"the file is larger than {max_bytes} bytes")
    claimed = bare_type(declared)
    if detected is None and claimed in recognisable:
        return MediaVerdict(None, f"the file is not the {claimed} it is declared as")
    content_type = bare_type(detected) or claimed
    if not content_type:
        return MediaVerdict(None, "the file has no type")
    if not any(fnmatchcase(content_type, bare_type(pattern)) for pattern in allowed):
        return MediaVerdict(None, f"files of type {content_type} are not accepted")
    return MediaVerdict(content_type)
