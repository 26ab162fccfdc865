"""Composition root of the ledger: wires clients, repository, handlers and the consumer."""

import functools
from dataclasses import dataclass

from services.common import database, kafka
from services.common.runtime import Infrastructure
from services.ledger import handlers, tables
from services.ledger.settings import LedgerSettings


@dataclass
class Ledger:
    infra: Infrastructure
    deps: handlers.Dependencies


async def start(settings: LedgerSettings) -> Ledger:
    """Connect, create tables and (if configured) start consuming reports and lifecycle events."""
    infra = await Infrastructure.start(settings.infra, client_id="gridloop-ledger")
    await database.create_tables(infra.engine, tables.ALL_TABLES)
    deps = handlers.Dependencies(sessions=database.session_maker(infra.engine))
    if settings.run_consumer:
        loop = kafka.ConsumerLoop(
            consumer=kafka.create_consumer(
                settings.infra, group_id=settings.consumer_group, client_id="gridloop-ledger"
            ),
            consumer_group=settings.consumer_group,
            topics=[settings.infra.topic_reports, settings.infra.topic_lifecycle],
            handle_batch=functools.partial(handlers.record_batch, deps=deps),
            publisher=infra.publisher,
            dead_letter_topic=settings.infra.topic_dead_letters,
        )
        infra.run_in_background(loop.run)
    return Ledger(infra=infra, deps=deps)
