"""The events a report becomes: `incident.reported`, `incident.merged`, `incident.feedback`.

Personal data leaves here only as a keyed token and a mask; names and ID numbers not at all.
"""

import uuid
from datetime import datetime

from services.common import envelope, events, personal_data
from services.intake.reports.schemas import FeedbackCreate, IncidentCreate, Reporter

SOURCE = "gridloop/intake"
# Channels whose reporters are owed a call back with the result, whichever case they join.
CALLBACK_CHANNELS = frozenset({events.Channel.HOTLINE, events.Channel.SERVICE_HALL})


def reporter_token(
    *, phone: str | None, reporter: Reporter | None, personal_data_key: str
) -> str | None:
    """One keyed token per reporter: from the phone, else from the ID number."""
    identifier = phone or (reporter.id_number.upper() if reporter and reporter.id_number else None)
    return personal_data.tokenise(identifier, key=personal_data_key) if identifier else None


def reported(
    report: IncidentCreate, *, incident_id: uuid.UUID, now: datetime, personal_data_key: str
) -> envelope.CloudEvent:
    """A new case."""
    phone = report.phone()
    data = events.IncidentReported(
        incident_id=incident_id,
        occurred_at=now,
        channel=report.channel,
        category=report.category,
        description=report.description,
        household_id=report.household_id,
        grid_id=report.grid_id,
        camera_id=report.camera_id,
        location=report.location,
        address=report.address,
        source_system=report.source_system,
        external_id=report.external_id,
        reported_by=report.reported_by,
        photos=tuple(report.photos),
        reporter_token=reporter_token(
            phone=phone, reporter=report.reporter, personal_data_key=personal_data_key
        ),
        reporter_phone_masked=personal_data.mask_phone(phone) if phone else None,
    )
    event_id = events.event_id_for(incident_id, "reported")
    return envelope.new_event(event_id=event_id, source=SOURCE, data=data)


def merged(
    report: IncidentCreate,
    *,
    incident_id: uuid.UUID,
    report_id: uuid.UUID,
    now: datetime,
    personal_data_key: str,
) -> envelope.CloudEvent:
    """A further report of the open case `incident_id`, keyed by that case."""
    phone = report.phone()
    data = events.IncidentMerged(
        incident_id=incident_id,
        occurred_at=now,
        report_id=report_id,
        channel=report.channel,
        description=report.description,
        source_system=report.source_system,
        external_id=report.external_id,
        needs_callback=report.channel in CALLBACK_CHANNELS,
        reporter_token=reporter_token(
            phone=phone, reporter=report.reporter, personal_data_key=personal_data_key
        ),
        reporter_phone_masked=personal_data.mask_phone(phone) if phone else None,
    )
    event_id = events.event_id_for(incident_id, f"merged/{report_id}")
    return envelope.new_event(event_id=event_id, source=SOURCE, data=data)


def feedback(
    verdict: FeedbackCreate,
    *,
    incident_id: uuid.UUID,
    step: str,
    now: datetime,
    personal_data_key: str,
) -> envelope.CloudEvent:
    """The reporter's verification; `step` makes a retried submission the same event."""
    reporter = verdict.reporter
    data = events.IncidentFeedback(
        incident_id=incident_id,
        occurred_at=now,
        rating=verdict.rating,
        comment=verdict.comment,
        reporter_token=reporter_token(
            phone=reporter.phone if reporter else None,
            reporter=reporter,
            personal_data_key=personal_data_key,
        ),
    )
    event_id = events.event_id_for(incident_id, f"feedback/{step}")
    return envelope.new_event(event_id=event_id, source=SOURCE, data=data)
