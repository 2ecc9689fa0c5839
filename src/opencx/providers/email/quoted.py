"""The new part of a reply: what the customer wrote, without what they quoted.

Rules, in English and French, on the text body (line by line):
- an attribution line, "On <date>, <name> wrote:" / "Le <date>, <name> a écrit :", even
  wrapped over two lines, is dropped with the ``>`` lines that follow it; if unquoted
  text follows it instead (clients that quote without ``>``), everything from it is cut;
- a separator, "-----Original Message-----" / "----- Message d'origine -----" (and the
  Thunderbird forms), cuts everything from it;
- an Outlook header block, "From: … Sent: … To: …" / "De : … Envoyé : … À : …" (on
  several lines or one), cuts everything from it, with the "_____" rule above it;
- any other line starting with ``>`` is dropped: an answer written between quoted lines
  (inline replies) or below them (bottom posting) is kept;
- a signature separator (``-- ``, or ``--`` once trailing spaces are lost) cuts the rest,
  and a trailing "Sent from my iPhone" / "Envoyé de mon iPhone" line is dropped.

Forwarded messages are content, not quotes: a header block under "---------- Forwarded
message ---------" (or "Message transféré", "Begin forwarded message:"), or whose subject
reads "Fwd:", "FW:" or "TR :", is kept. When nothing is left, the whole text is
returned, so a message is never shown empty.
"""

from __future__ import annotations

import re

__all__ = ["strip_quoted_reply"]

#: A date has digits and the name follows a comma: "Le livreur a écrit :" is no attribution.
_ATTRIBUTION = re.compile(
    r"^(?=.*\d)(?=.*,)(?:On\s.{1,300}\swrote|Le\s.{1,300}\sa\s+écrit)\s*:$", re.IGNORECASE
)
_ATTRIBUTION_START = re.compile(r"^(?:On|Le)\s", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^-{2,}\s*(?:Original Message|Message d['’]origine|Message original|Courriel original)"
    r"\s*-{2,}$",
    re.IGNORECASE,
)
_FIELD = r"^\**(?:{names})\s*:"
_FROM = re.compile(_FIELD.format(names="From|De"), re.IGNORECASE)
_SENT = re.compile(_FIELD.format(names="Sent|Date|Envoyé|Envoyé le"), re.IGNORECASE)
_TO = re.compile(_FIELD.format(names="To|À|A|Subject|Objet|Cc"), re.IGNORECASE)
_ONE_LINE_BLOCK = re.compile(
    r"^\**(?:From|De)\s*:.+\s(?:Sent|Envoyé)\s*:.+\s(?:To|À|Subject|Objet)\s*:", re.IGNORECASE
)
_FORWARD_MARK = re.compile(
    r"^(?:-{2,}\s*(?:Forwarded message|Message transféré)\s*-{2,}|Begin forwarded message:|"
    r"Début du message (?:réexpédié|transféré)\s*:)$",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"^\**(?:Subject|Objet)\s*:\**\s*(?:FW|Fwd|TR|WG)\s*:", re.IGNORECASE)
_RULE = re.compile(r"^(?:_{5,}|-{5,})$")
_MOBILE = re.compile(
    r"^(?:Sent from my |Sent from (?:Mail|Outlook|Yahoo)|Envoyé de mon |Envoyé depuis mon |"
    r"Envoyé à partir de |Get Outlook for |Obtenir Outlook pour |Télécharger Outlook pour )"
    r".{0,40}$",
    re.IGNORECASE,
)
_BLOCK_LOOKAHEAD = 6  # lines in which an Outlook block's fields must follow its "From:"
_MAX_MARKER = 500  # longer lines are content: and the patterns stay linear in time


def strip_quoted_reply(text: str) -> str:
    """The part of ``text`` the sender wrote themselves (see the module rules)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = _new_lines(text.split("\n"))
    _drop_trailing(kept)
    new = _squeeze_blanks(kept).strip("\n")
    return new if new.strip() else text.strip("\n")


def _new_lines(lines: list[str]) -> list[str]:
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if _cuts_the_rest(lines, index):
            break
        attribution = _attribution_length(lines, index)
        if attribution:
            following = _next_non_blank(lines, index + attribution)
            if following is None or not lines[following].lstrip().startswith(">"):
                break
            index = following
            continue
        if not line.startswith(">"):
            kept.append(lines[index].rstrip())
        index += 1
    return kept


def _cuts_the_rest(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if len(line) > _MAX_MARKER:
        return False
    return (
        line in ("--", "-- ")
        or bool(_SEPARATOR.match(line))
        or bool(_ONE_LINE_BLOCK.match(line))
        or _outlook_block(lines, index)
    )


def _outlook_block(lines: list[str], index: int) -> bool:
    if not _FROM.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1 : index + 1 + _BLOCK_LOOKAHEAD]]
    return (
        any(_SENT.match(line) for line in following)
        and any(_TO.match(line) for line in following)
        and not _forwarded(lines, index, following)
    )


def _forwarded(lines: list[str], index: int, block: list[str]) -> bool:
    """A header block under a "Forwarded message" line, or with a "Fwd:" subject."""
    above = _previous_non_blank(lines, index)
    previous = lines[above].strip() if above is not None else ""
    return bool(_FORWARD_MARK.match(previous)) or any(map(_FORWARD_SUBJECT.match, block))


def _attribution_length(lines: list[str], index: int) -> int:
    """1 or 2 when an attribution line (possibly wrapped) starts at ``index``, else 0."""
    line = lines[index].strip()
    if len(line) > _MAX_MARKER or not _ATTRIBUTION_START.match(line):
        return 0
    if _ATTRIBUTION.match(line):
        return 1
    if index + 1 < len(lines) and _ATTRIBUTION.match(f"{line} {lines[index + 1].strip()}"):
        return 2
    return 0


def _next_non_blank(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return None


def _previous_non_blank(lines: list[str], start: int) -> int | None:
    for index in range(start - 1, -1, -1):
        if lines[index].strip():
            return index
    return None


def _drop_trailing(kept: list[str]) -> None:
    """Drop blank lines, rules and mobile signatures left at the end."""
    while kept and (
        not kept[-1].strip() or _RULE.match(kept[-1].strip()) or _MOBILE.match(kept[-1].strip())
    ):
        kept.pop()


def _squeeze_blanks(lines: list[str]) -> str:
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text)
