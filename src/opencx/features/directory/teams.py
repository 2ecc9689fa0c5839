"""Teams: groups of agents (chat team, technical support, renewals...)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from opencx.db.models import Queue, Team, User
from opencx.features.common import InputSchema, Schema
from opencx.features.directory._catalogue import Catalogue

__all__ = [
    "TeamCreate",
    "TeamOut",
    "TeamUpdate",
    "create_team",
    "delete_team",
    "get_team",
    "list_teams",
    "update_team",
]


class TeamCreate(InputSchema):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)


class TeamUpdate(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)


class TeamOut(Schema):
    id: int
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


TEAMS = Catalogue(
    model=Team,
    kind="team",
    out=TeamOut,
    uses=lambda team_id: {"users": User.team_id == team_id, "queues": Queue.team_id == team_id},
)
list_teams = TEAMS.list
get_team = TEAMS.get
create_team = TEAMS.create
update_team = TEAMS.update
delete_team = TEAMS.delete
