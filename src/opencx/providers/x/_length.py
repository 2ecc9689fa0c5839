"""How long a post is for X: the weighted length X limits to 280.

X counts as its twitter-text library (configuration v3) does: the text in NFC; a code
point in the ranges most Latin, Greek, Cyrillic, Hebrew, Arabic, Indic scripts and
common punctuation use (U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F, U+2032–U+2037)
weighs 1, any other (CJK, most symbols) weighs 2; a link (``http://`` or ``https://``)
weighs 23 whatever its length; an emoji weighs 2, including a sequence drawn as one
(skin tones, ``ZWJ`` families, flags, keycaps).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_WEIGHTED_LENGTH", "weighted_length"]

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_ZWJ = 0x200D
_VS16 = 0xFE0F
_KEYCAP = 0x20E3
_KEYCAP_BASES = frozenset("0123456789#*")


def weighted_length(text: str) -> int:
    normal = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for link in _URL.finditer(normal):
        total += _weigh(normal[position : link.start()]) + URL_WEIGHT
        position = link.end()
    return total + _weigh(normal[position:])


def _weigh(part: str) -> int:
    total = 0
    index = 0
    while index < len(part):
        end = _emoji_end(part, index)
        if end > index:
            total += 2
            index = end
            continue
        code = ord(part[index])
        total += 1 if any(low <= code <= high for low, high in _LIGHT) else 2
        index += 1
    return total


def _emoji_end(part: str, start: int) -> int:
    """Where the emoji sequence starting at ``start`` ends; ``start`` when none does."""
    first = part[start]
    code = ord(first)
    following = ord(part[start + 1]) if start + 1 < len(part) else None
    if first in _KEYCAP_BASES:
        ends_keycap = part[start + 1 : start + 3] == chr(_VS16) + chr(_KEYCAP)
        return start + 3 if ends_keycap else start
    if 0x1F1E6 <= code <= 0x1F1FF:  # regional indicators: a pair is a flag
        return start + 2 if following is not None and 0x1F1E6 <= following <= 0x1F1FF else start + 1
    if not (_pictographic(code) or (0x2600 <= code <= 0x27BF and following == _VS16)):
        return start
    index = start + 1
    while index < len(part):
        code = ord(part[index])
        if _modifies(code):
            index += 1
        elif code == _ZWJ and index + 1 < len(part) and _joinable(ord(part[index + 1])):
            index += 2
        else:
            break
    return index


def _modifies(code: int) -> bool:
    """Variation selector, keycap, skin tone, or a tag (subdivision flags)."""
    return code in (_VS16, _KEYCAP) or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F


def _pictographic(code: int) -> bool:
    return 0x1F000 <= code <= 0x1FAFF


def _joinable(code: int) -> bool:
    return _pictographic(code) or 0x2600 <= code <= 0x27BF
