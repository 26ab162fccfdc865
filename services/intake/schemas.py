"""Request and response models of the intake API."""

import uuid
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.common.categories import CATALOGUE
from services.common.events import Channel, GeoPoint

ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class IncidentCreate(BaseModel):
    """A report from any channel; at least one of household, grid, camera, location or address."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    category: str
    description: str = Field(min_length=1, max_length=4000)
    household_id: str | None = Field(default=None, pattern=ID_PATTERN)
    grid_id: str | None = Field(default=None, pattern=ID_PATTERN)
    camera_id: str | None = Field(default=None, pattern=ID_PATTERN)
    location: GeoPoint | None = None
    address: str | None = Field(default=None, min_length=1, max_length=300)
    reporter_phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{5,19}$")

    @field_validator("category")
    @classmethod
    def known_category(cls, category: str) -> str:
        if category not in CATALOGUE:
            raise ValueError(f"unknown category; known: {', '.join(sorted(CATALOGUE))}")
        return category

    @model_validator(mode="after")
    def placed_somewhere(self) -> Self:
        if not any((self.household_id, self.grid_id, self.camera_id, self.location, self.address)):
            raise ValueError(
                "say where: one of household_id, grid_id, camera_id, location or address"
            )
        return self


class IncidentAccepted(BaseModel):
    incident_id: uuid.UUID
    status: str = "reported"
