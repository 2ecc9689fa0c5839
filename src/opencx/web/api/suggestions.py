"""/api/v1/conversations/{id}/suggestions: answers the agent may send next."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from opencx.features import knowledge
from opencx.web.deps import ContextDep, EntityId, PrincipalDep

router = APIRouter(tags=["conversations"])

SuggestionLimit = Annotated[int, Query(ge=1, le=knowledge.MAX_SUGGESTIONS)]


@router.get(
    "/conversations/{conversation_id}/suggestions", response_model=list[knowledge.SuggestionOut]
)
async def suggestions(
    ctx: ContextDep, principal: PrincipalDep, conversation_id: EntityId, limit: SuggestionLimit = 5
) -> list[knowledge.SuggestionOut]:
    """Canned responses (rendered for this conversation), published articles and
    answers from past resolved conversations, best first, for what the customer last
    wrote, in their language (French or English)."""
    return await knowledge.suggest_answers(ctx, principal, conversation_id, limit=limit)
