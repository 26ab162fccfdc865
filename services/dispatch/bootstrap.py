"""Composition root of dispatch: wires clients, repositories, handlers and the consumer."""

import functools
from dataclasses import dataclass

from services.common import database, kafka
from services.common.runtime import Infrastructure
from services.dispatch import handlers
from services.dispatch.adapters import tables
from services.dispatch.adapters.live_state import LiveState
from services.dispatch.settings import DispatchSettings


@dataclass
class Dispatch:
    infra: Infrastructure
    deps: handlers.Dependencies


async def start(settings: DispatchSettings) -> Dispatch:
    """Connect, create tables, rebuild live state and (if configured) start consuming reports."""
    infra = await Infrastructure.start(settings.infra, client_id="gridloop-dispatch")
    await database.create_tables(infra.engine, tables.ALL_TABLES)
    deps = handlers.Dependencies(
        sessions=database.session_maker(infra.engine),
        live=LiveState(infra.redis, namespace=settings.redis_namespace),
        publisher=infra.publisher,
        lifecycle_topic=settings.infra.topic_lifecycle,
    )
    await handlers.rebuild_live_state(deps=deps)
    if settings.run_consumer:
        loop = kafka.ConsumerLoop(
            consumer=kafka.create_consumer(
                settings.infra, group_id=settings.consumer_group, client_id="gridloop-dispatch"
            ),
            consumer_group=settings.consumer_group,
            topics=[settings.infra.topic_reports],
            handle_batch=functools.partial(handlers.assign_reported, deps=deps),
            publisher=infra.publisher,
            dead_letter_topic=settings.infra.topic_dead_letters,
        )
        infra.run_in_background(loop.run)
    return Dispatch(infra=infra, deps=deps)
