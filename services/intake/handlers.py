"""Intake use cases: turn a report into an `incident.reported` event the broker has acknowledged."""

import asyncio
import logging
import uuid
from datetime import datetime

from aiokafka.errors import KafkaError

from services.common import envelope, events, personal_data
from services.common.kafka import Publisher
from services.intake.schemas import IncidentCreate

logger = logging.getLogger(__name__)
SOURCE = "gridloop/intake"


class PublishFailed(Exception):
    """The broker did not acknowledge the event in time: the report was not taken."""


def reported_event(
    report: IncidentCreate, *, incident_id: uuid.UUID, now: datetime, personal_data_key: str
) -> envelope.CloudEvent:
    """The event for a new report; the reporter's phone only as a token and a mask."""
    phone = report.reporter_phone
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
        reporter_token=personal_data.tokenise(phone, key=personal_data_key) if phone else None,
        reporter_phone_masked=personal_data.mask_phone(phone) if phone else None,
    )
    event_id = events.event_id_for(incident_id, "reported")
    return envelope.new_event(event_id=event_id, source=SOURCE, data=data)


async def report_incident(
    report: IncidentCreate,
    *,
    publisher: Publisher,
    topic: str,
    timeout_s: float,
    now: datetime,
    personal_data_key: str,
) -> uuid.UUID:
    """Publish the report and return its incident id once the broker has it."""
    incident_id = uuid.uuid4()
    event = reported_event(
        report, incident_id=incident_id, now=now, personal_data_key=personal_data_key
    )
    try:
        await asyncio.wait_for(publisher.publish(topic, event), timeout_s)
    except (KafkaError, TimeoutError) as error:
        logger.warning(
            "report not acknowledged by the broker: %r", error, extra={"incident_id": incident_id}
        )
        raise PublishFailed(str(error) or type(error).__name__) from error
    logger.info(
        "reported %s via %s",
        report.category,
        report.channel.value,
        extra={"incident_id": incident_id, "event_id": event.id},
    )
    return incident_id
