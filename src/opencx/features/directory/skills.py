"""Skills: what agents know (a product, a language pair, a procedure), with levels."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from opencx.db.models import AgentSkill, Skill
from opencx.features.common import InputSchema, Schema
from opencx.features.directory._catalogue import Catalogue

__all__ = [
    "SkillCreate",
    "SkillOut",
    "SkillUpdate",
    "create_skill",
    "delete_skill",
    "get_skill",
    "list_skills",
    "update_skill",
]


class SkillCreate(InputSchema):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=2000)


class SkillUpdate(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    description: str | None = Field(default=None, max_length=2000)


class SkillOut(Schema):
    id: int
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


SKILLS = Catalogue(
    model=Skill,
    kind="skill",
    out=SkillOut,
    uses=lambda skill_id: {"agents": AgentSkill.skill_id == skill_id},
)
list_skills = SKILLS.list
get_skill = SKILLS.get
create_skill = SKILLS.create
update_skill = SKILLS.update
delete_skill = SKILLS.delete
