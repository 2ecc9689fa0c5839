"""What an answer says and to whom it is copied, as stored from what the client posted
(the rules are ``messages``'s: light markup, HTML rebuilt, copies, catalog templates)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Direction
from opencx.core.errors import InvalidInput
from opencx.core.rich_text import markup_html, markup_text, sanitize_html
from opencx.core.whatsapp_templates import check_parameters, fill
from opencx.features.conversations.answer_templates import catalog_template

if TYPE_CHECKING:
    from opencx.features.conversations.messages import MessageCreate, TemplateIn

__all__ = ["answer_bodies", "copies", "template_text"]


def answer_bodies(data: MessageCreate) -> tuple[str, str | None]:
    """The text and HTML stored: made from light markup, or the client's HTML rebuilt
    from the allow-list when it is to be sent."""
    if data.body_format == "markup":
        return markup_text(data.body_text), markup_html(data.body_text)
    if data.direction is Direction.OUTBOUND and data.body_html is not None:
        return data.body_text, sanitize_html(data.body_html)
    return data.body_text, data.body_html


def copies(data: MessageCreate) -> dict[str, str]:
    """An e-mail's copies as its metadata keeps them (strings only): each address once,
    whatever its case, a blind copy only when it is not copied openly already."""
    seen: set[str] = set()
    kept: dict[str, list[str]] = {}
    for key, addresses in (("cc", data.cc), ("bcc", data.bcc)):
        for address in addresses:
            if address.lower() not in seen:
                seen.add(address.lower())
                kept.setdefault(key, []).append(address)
    return {key: ", ".join(addresses) for key, addresses in kept.items()}


async def template_text(
    session: AsyncSession, conversation_id: int, template: TemplateIn, body_text: str
) -> str:
    """Refuse parameters that do not fill the catalog's template; the text the customer
    reads when the message gives none."""
    known = await catalog_template(
        session, conversation_id, name=template.name, language=template.language
    )
    if known is None:
        return body_text
    refusal = check_parameters(known.body, template.parameters)
    if refusal is not None:
        raise InvalidInput(refusal, field="template.parameters")
    return body_text if body_text.strip() else fill(known.body, template.parameters)
