"""Request and response models of the roster API (XBase / XCreate / XUpdate / XPublic)."""

from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from services.dispatch.roster import geometry
from services.dispatch.roster.entities import DEFAULT_CASE_CAPACITY, Role


def _boundary(value: Any) -> geometry.Area:
    return value if isinstance(value, geometry.Area) else geometry.parse(value)


Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Boundary = Annotated[
    geometry.Area,
    PlainValidator(_boundary),
    PlainSerializer(geometry.to_geojson),
    WithJsonSchema(
        {"type": "object", "description": "GeoJSON Polygon or MultiPolygon, positions [lon, lat]"}
    ),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Update(_Request):
    """PATCH body: only the fields given change; `null` clears an optional field."""

    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "_Update":
        for name in self.not_null:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class GridBase(BaseModel):
    name: Text
    leader_id: Identifier | None = None
    committee_member_id: Identifier | None = None
    boundary: Boundary | None = None


class GridCreate(GridBase, _Request):
    id: Identifier


class GridUpdate(_Update):
    not_null = ("name",)
    name: Text | None = None
    leader_id: Identifier | None = None
    committee_member_id: Identifier | None = None
    boundary: Boundary | None = None


class GridPublic(GridBase):
    id: str


class MemberBase(BaseModel):
    name: Text
    role: Role
    grid_id: Identifier | None = None
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    case_capacity: int = Field(default=DEFAULT_CASE_CAPACITY, ge=0, le=1000)


class MemberCreate(MemberBase, _Request):
    id: Identifier


class MemberUpdate(_Update):
    not_null = ("name", "role", "skills", "case_capacity")
    name: Text | None = None
    role: Role | None = None
    grid_id: Identifier | None = None
    skills: list[Skill] | None = Field(default=None, max_length=20)
    case_capacity: int | None = Field(default=None, ge=0, le=1000)


class MemberPublic(MemberBase):
    id: str
    linked_households: int = Field(description="households linked to this member (1+10)")


class _Position(BaseModel):
    @model_validator(mode="after")
    def _both_or_neither(self) -> "_Position":
        if (getattr(self, "lat", None) is None) != (getattr(self, "lon", None) is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class HouseholdBase(_Position):
    grid_id: Identifier
    address: Text
    village: OptionalText = ""
    village_group: OptionalText = ""
    linked_member_id: Identifier
    lat: Latitude | None = None
    lon: Longitude | None = None
    elderly_alone: bool = False
    disabled: bool = False


class HouseholdCreate(HouseholdBase, _Request):
    id: Identifier


class HouseholdUpdate(_Update):
    """Moving a household to another grid needs its new linked member in the same request."""

    not_null = (
        "grid_id",
        "address",
        "village",
        "village_group",
        "linked_member_id",
        "elderly_alone",
        "disabled",
    )
    grid_id: Identifier | None = None
    address: Text | None = None
    village: OptionalText | None = None
    village_group: OptionalText | None = None
    linked_member_id: Identifier | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    elderly_alone: bool | None = None
    disabled: bool | None = None


class HouseholdPublic(HouseholdBase):
    id: str


class HouseholdLink(_Request):
    """The party member a household is linked to (1+10)."""

    linked_member_id: Identifier


class CameraBase(BaseModel):
    grid_id: Identifier
    place: Text
    lat: Latitude
    lon: Longitude


class CameraCreate(CameraBase, _Request):
    id: Identifier


class CameraUpdate(_Update):
    not_null = ("grid_id", "place", "lat", "lon")
    grid_id: Identifier | None = None
    place: Text | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class CameraPublic(CameraBase):
    id: str


class RowError(BaseModel):
    """One bad row: `row` is its place in the file (None for a stored row the file breaks)."""

    kind: str
    row: int | None
    id: str | None
    field: str | None
    reason: str


class Refusal(BaseModel):
    detail: str
    errors: list[RowError]


# A 422 is either the roster's own refusal (every bad row) or FastAPI's validation error.
REFUSAL_OR_INVALID = {
    "anyOf": [
        {"$ref": "#/components/schemas/Refusal"},
        {"$ref": "#/components/schemas/HTTPValidationError"},
    ]
}


class RosterDocument(_Request):
    """A JSON import: any of the four lists; in replace mode a list given replaces that kind."""

    grids: list[GridCreate] | None = None
    members: list[MemberCreate] | None = None
    households: list[HouseholdCreate] | None = None
    cameras: list[CameraCreate] | None = None


class ImportResult(BaseModel):
    mode: str
    dry_run: bool
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    deleted: dict[str, int]
