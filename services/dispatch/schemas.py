"""Request and response models of the dispatch API."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CaseAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: str = Field(min_length=1, max_length=64)


class CaseResolve(CaseAction):
    result: str = Field(min_length=1, max_length=4000)


class CasePublic(BaseModel):
    incident_id: uuid.UUID
    category: str
    channel: str
    household_id: str | None
    grid_id: str | None
    status: str
    assignee_id: str | None
    rung: str
    reason: str
    reported_at: datetime
    assigned_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None


class HouseholdPublic(BaseModel):
    id: str
    grid_id: str
    address: str
    village_group: str
    linked_member_id: str


class GridPublic(BaseModel):
    id: str
    name: str
    leader_id: str | None
    committee_member_id: str | None
