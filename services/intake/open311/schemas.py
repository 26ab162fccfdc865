"""GeoReport v2 documents, with the field names of the published specification (JSON format)."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.intake.reports.schemas import ID_PATTERN, PHONE_PATTERN


class Service(BaseModel):
    """One service type: our incident category."""

    service_code: str
    service_name: str
    description: str
    metadata: bool = False
    type: str = "realtime"
    keywords: str
    group: str


class ServiceRequestCreate(BaseModel):
    """The fields of POST requests (form-encoded); personal fields other than phone are dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    api_key: str | None = Field(default=None, max_length=200)
    jurisdiction_id: str | None = Field(default=None, max_length=100)
    service_code: str = Field(min_length=1, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    address_string: str | None = Field(default=None, min_length=1, max_length=300)
    address_id: str | None = Field(default=None, pattern=ID_PATTERN)
    email: str | None = Field(default=None, max_length=200)
    device_id: str | None = Field(default=None, max_length=200)
    account_id: str | None = Field(default=None, max_length=200)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    description: str | None = Field(default=None, max_length=4000)
    media_url: str | None = Field(default=None, min_length=1, max_length=500)


class ServiceRequestCreated(BaseModel):
    service_request_id: uuid.UUID
    token: str | None = None
    service_notice: str
    account_id: str | None = None


class ServiceRequest(BaseModel):
    """A service request's current state, as GET requests answers it."""

    service_request_id: uuid.UUID
    status: str
    status_notes: str | None = None
    service_name: str | None = None
    service_code: str | None = None
    description: str | None = None
    agency_responsible: str | None = None
    service_notice: str | None = None
    requested_datetime: datetime | None = None
    updated_datetime: datetime | None = None
    expected_datetime: datetime | None = None
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None = None


class Open311Error(BaseModel):
    """GeoReport errors are a list of these, with the HTTP status as the code."""

    code: int
    description: str
