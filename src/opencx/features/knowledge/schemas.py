"""API shapes of the agent's toolbox: canned responses, articles, suggestions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from opencx.core.ids import MAX_ID
from opencx.core.knowledge import CannedScope, ContentLocale, SourceKind
from opencx.features.common import InputSchema, Schema
from opencx.features.knowledge.rendering import check_template

__all__ = [
    "ArticleCreate",
    "ArticleOut",
    "ArticleUpdate",
    "CannedCreate",
    "CannedOut",
    "CannedUpdate",
    "RenderIn",
    "RenderOut",
    "SuggestionOut",
]

RefId = Annotated[int, Field(ge=1, le=MAX_ID)]
#: Typed after a slash in the desktop: lower-case letters, digits, ``-`` and ``_``.
Shortcut = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$"), Field(examples=["refund"])
]
CannedBody = Annotated[
    str,
    Field(
        min_length=1,
        max_length=10_000,
        examples=["Bonjour {{ customer.first_name }}, votre dossier {{ case.number }}…"],
    ),
    AfterValidator(check_template),
]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1)]
MAX_TAG = 40


def _unique_tags(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    if any(len(value) > MAX_TAG for value in values):
        raise ValueError(f"a tag is at most {MAX_TAG} characters")
    return list(dict.fromkeys(values))


class CannedCreate(InputSchema):
    """``scope``: ``personal`` (the caller's own), ``team`` (give ``team_id``) or
    ``company``. ``site_id`` keeps it to one site; a partner-site user's responses
    always belong to their site."""

    title: str = Field(min_length=1, max_length=200)
    body: CannedBody
    locale: ContentLocale
    shortcut: Shortcut | None = None
    scope: CannedScope = CannedScope.PERSONAL
    team_id: RefId | None = None
    site_id: RefId | None = None


class CannedUpdate(InputSchema):
    """Only the fields sent change; ``shortcut`` may be set to null. The scope, team and
    site of a response stay as created."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: CannedBody | None = None
    locale: ContentLocale | None = None
    shortcut: Shortcut | None = None


class CannedOut(Schema):
    id: int
    title: str
    body: str
    locale: ContentLocale
    shortcut: str | None
    scope: CannedScope
    team_id: int | None
    owner_id: int | None
    site_id: int | None
    created_at: datetime
    updated_at: datetime


class RenderIn(InputSchema):
    conversation_id: RefId


class RenderOut(Schema):
    text: str


class ArticleCreate(InputSchema):
    """An article starts unpublished unless ``published`` is true; agents read only
    published ones."""

    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=100_000)
    locale: ContentLocale
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    published: bool = False
    site_id: RefId | None = None

    _tags = field_validator("tags")(_unique_tags)


class ArticleUpdate(InputSchema):
    """Only the fields sent change; the site of an article stays as created."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=100_000)
    locale: ContentLocale | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    published: bool | None = None

    _tags = field_validator("tags")(_unique_tags)


class ArticleOut(Schema):
    id: int
    title: str
    body: str
    locale: ContentLocale
    tags: list[str]
    published: bool
    site_id: int | None
    author_id: int | None
    created_at: datetime
    updated_at: datetime
    #: BM25 relevance to ``q`` when searching (higher is better), else null.
    score: float | None = None


class SuggestionOut(Schema):
    """One suggested answer. ``id`` is the canned response's, the article's, or for a
    past answer the resolved conversation's; ``text`` is ready to send for a canned
    response (variables filled), an article's opening otherwise."""

    kind: SourceKind
    id: int
    title: str
    text: str
    score: float
    locale: ContentLocale
