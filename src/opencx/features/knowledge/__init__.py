"""The agent's toolbox: canned responses, the knowledge base and suggested answers.

Modules: ``access`` (who sees and manages what, events), ``canned``, ``articles``,
``rendering`` (variables, sandboxed), ``sources`` (what the index is built from),
``toolbox`` (the per-process index), ``suggestions``, ``schemas``. The ranking itself
is pure, in ``opencx.ranking``; the rules of who sees what in ``core.knowledge``.
"""

from opencx.features.knowledge.articles import (
    create_article,
    delete_article,
    get_article,
    list_articles,
    update_article,
)
from opencx.features.knowledge.canned import (
    create_canned_response,
    delete_canned_response,
    get_canned_response,
    list_canned_responses,
    render_canned_response,
    update_canned_response,
)
from opencx.features.knowledge.schemas import (
    ArticleCreate,
    ArticleOut,
    ArticleUpdate,
    CannedCreate,
    CannedOut,
    CannedUpdate,
    RenderIn,
    RenderOut,
    SuggestionOut,
)
from opencx.features.knowledge.suggestions import MAX_SUGGESTIONS, suggest_answers

__all__ = [
    "MAX_SUGGESTIONS",
    "ArticleCreate",
    "ArticleOut",
    "ArticleUpdate",
    "CannedCreate",
    "CannedOut",
    "CannedUpdate",
    "RenderIn",
    "RenderOut",
    "SuggestionOut",
    "create_article",
    "create_canned_response",
    "delete_article",
    "delete_canned_response",
    "get_article",
    "get_canned_response",
    "list_articles",
    "list_canned_responses",
    "render_canned_response",
    "suggest_answers",
    "update_article",
    "update_canned_response",
]
