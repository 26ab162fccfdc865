"""Between GeoReport v2 and our model: categories as services, cases as service requests. Pure."""

from datetime import datetime

from pydantic import ValidationError

from services.common.categories import CATALOGUE
from services.common.events import Channel, GeoPoint, PhotoRef
from services.intake import statuses
from services.intake.adapters.ledger_client import IncidentSummary
from services.intake.open311.schemas import Service, ServiceRequest, ServiceRequestCreate
from services.intake.reports.schemas import IncidentCreate, Reporter

SOURCE_SYSTEM = "open311"
GROUPS = {
    "neighbour_dispute": "disputes",
    "family_dispute": "disputes",
    "property_dispute": "disputes",
    "night_nuisance": "public order",
    "public_order": "public order",
    "illegal_construction": "environment",
    "clutter": "environment",
    "garden_encroachment": "environment",
    "wall_seepage": "safety",
    "safety_hazard": "safety",
    "epidemic_control": "safety",
    "paperwork_service": "services",
    "employment_service": "services",
    "home_service": "services",
    "fraud_prevention": "prevention and advice",
    "legal_advice": "prevention and advice",
}
NOTICE_NEW = "received; it will be assigned to the officer responsible for the place"
NOTICE_MERGED = "an open request of the same kind at the same place exists; this report joins it"


class InvalidRequest(ValueError):
    """The request cannot become a report (400 with the reason)."""


class UnknownService(LookupError):
    """No such service_code (404)."""


def services() -> list[Service]:
    """Our category catalogue as GeoReport services."""
    return [
        Service(
            service_code=category.code,
            service_name=category.title,
            description=f"{category.title} (priority {category.priority.value})",
            keywords=", ".join(category.code.split("_")),
            group=GROUPS.get(category.code, "other"),
        )
        for category in CATALOGUE.values()
    ]


def to_report(request: ServiceRequestCreate, *, now: datetime) -> IncidentCreate:
    """A GeoReport POST as a platform report; first name, last name and email are not kept."""
    category = CATALOGUE.get(request.service_code)
    if category is None:
        raise UnknownService(f"service_code {request.service_code!r} not found")
    if (request.lat is None) != (request.long is None):
        raise InvalidRequest("lat and long go together")
    location = (
        GeoPoint(lat=request.lat, lon=request.long)
        if request.lat is not None and request.long is not None
        else None
    )
    if location is None and not request.address_string and not request.address_id:
        raise InvalidRequest("a location is required: lat and long, address_string or address_id")
    try:
        return IncidentCreate(
            channel=Channel.PLATFORM,
            category=category.code,
            description=(request.description or "").strip() or category.title,
            location=location,
            address=request.address_string,
            household_id=request.address_id,
            source_system=SOURCE_SYSTEM,
            photos=[PhotoRef(ref=request.media_url, taken_at=now)] if request.media_url else [],
            reporter=Reporter(phone=request.phone) if request.phone else None,
        )
    except ValidationError as error:
        raise InvalidRequest(_first_problem(error)) from error


def to_service_request(case: IncidentSummary) -> ServiceRequest:
    """A ledger case as a GeoReport service request."""
    category = CATALOGUE.get(case.category or "")
    return ServiceRequest(
        service_request_id=case.incident_id,
        status=statuses.open311_status(case.status),
        status_notes=statuses.public_note(case.status, case.status_note),
        service_name=category.title if category else None,
        service_code=case.category,
        description=case.description,
        agency_responsible=_agency(case),
        requested_datetime=case.reported_at,
        updated_datetime=case.last_change(),
        address=case.address,
        address_id=case.household_id,
        lat=case.location.lat if case.location else None,
        long=case.location.lon if case.location else None,
    )


def statuses_wanted(status: str | None) -> set[str]:
    """The `status` filter (`open`, `closed`, or both comma-separated); empty means all."""
    if not status:
        return set()
    wanted = {part.strip() for part in status.split(",") if part.strip()}
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise InvalidRequest(f"status must be open or closed, not {', '.join(sorted(unknown))}")
    return wanted


def codes_wanted(service_code: str | None) -> list[str | None]:
    """The `service_code` filter as a list of categories (None: every category)."""
    if not service_code:
        return [None]
    codes = [code.strip() for code in service_code.split(",") if code.strip()]
    unknown = [code for code in codes if code not in CATALOGUE]
    if unknown:
        raise InvalidRequest(f"unknown service_code {', '.join(unknown)}")
    return list(dict.fromkeys(codes)) or [None]


def _agency(case: IncidentSummary) -> str | None:
    if case.status == "transferred":
        return "town-level department"
    return f"grid {case.grid_id}" if case.grid_id else None


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg"))
