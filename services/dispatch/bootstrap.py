"""Composition root of dispatch: wires clients, repositories, handlers and background work."""

import functools
import logging
import tomllib
from dataclasses import dataclass
from datetime import timedelta

from services.common import database, kafka
from services.common.runtime import Infrastructure
from services.dispatch.adapters import case_repo, outbox, tables, timer_store
from services.dispatch.adapters.live_state import LiveState
from services.dispatch.cases import deadline_watch, gauges, reports
from services.dispatch.cases.work import Dependencies
from services.dispatch.domain import catalogue
from services.dispatch.settings import DispatchSettings

logger = logging.getLogger(__name__)


@dataclass
class Dispatch:
    infra: Infrastructure
    deps: Dependencies
    settings: DispatchSettings


def load_catalogue(settings: DispatchSettings) -> catalogue.Catalogue:
    """The category catalogue from its configuration file."""
    with settings.catalogue_file.open("rb") as file:
        return catalogue.parse(tomllib.load(file))


async def start(settings: DispatchSettings) -> Dispatch:
    """Connect, create tables, rebuild live state, and start the configured background work."""
    infra = await Infrastructure.start(settings.infra, client_id="gridloop-dispatch")
    await database.create_tables(infra.engine, tables.ALL_TABLES)
    deps = Dependencies(
        sessions=database.session_maker(infra.engine),
        live=LiveState(
            infra.redis,
            namespace=settings.redis_namespace,
            heartbeat_ttl_s=settings.heartbeat_ttl_s,
        ),
        publisher=infra.publisher,
        lifecycle_topic=settings.infra.topic_lifecycle,
        catalogue=load_catalogue(settings),
        schedule=timer_store.TimerSchedule(infra.redis, namespace=settings.redis_namespace),
    )
    async with deps.sessions() as session:
        await deps.live.rebuild(await case_repo.open_case_counts(session=session))
    infra.run_in_background(
        functools.partial(
            outbox.relay,
            publisher=infra.publisher,
            sessions=deps.sessions,
            grace=timedelta(seconds=settings.outbox_grace_s),
        )
    )
    infra.run_in_background(
        functools.partial(gauges.keep_fresh, deps=deps, interval_s=settings.gauges_interval_s)
    )
    if settings.run_timers:
        infra.run_in_background(
            functools.partial(deadline_watch.watch, deps=deps, poll_s=settings.timer_poll_s)
        )
        infra.run_in_background(
            functools.partial(
                deadline_watch.reconcile, deps=deps, interval_s=settings.reconcile_interval_s
            )
        )
    if settings.run_consumer:
        loop = kafka.ConsumerLoop(
            consumer=kafka.create_consumer(
                settings.infra, group_id=settings.consumer_group, client_id="gridloop-dispatch"
            ),
            consumer_group=settings.consumer_group,
            topics=[settings.infra.topic_reports],
            handle_batch=functools.partial(reports.handle, deps=deps),
            publisher=infra.publisher,
            dead_letter_topic=settings.infra.topic_dead_letters,
        )
        infra.run_in_background(loop.run)
    return Dispatch(infra=infra, deps=deps, settings=settings)
