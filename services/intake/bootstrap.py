"""Composition root of intake: the one place where clients, repositories and handlers are wired."""

import functools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import auth, database, kafka, migrations
from services.common.group_commit import GroupCommit
from services.common.held_connection import HeldConnection
from services.common.runtime import Infrastructure
from services.intake import lifecycle
from services.intake import migrations as intake_migrations
from services.intake.adapters.geo_index import GeoIndex, IndexedCase
from services.intake.adapters.ledger_client import LedgerClient
from services.intake.adapters.service_token import ClientCredentials
from services.intake.callbacks import handlers as callbacks
from services.intake.callbacks.worker import CallbackWorker, WorkerSettings
from services.intake.integrators import handlers as integrators
from services.intake.integrators.rate_limit import RateLimiter
from services.intake.open311 import handlers as open311
from services.intake.reports import follow_up, repository
from services.intake.reports import handlers as reports
from services.intake.reports.domain import Claim
from services.intake.settings import IntakeSettings

logger = logging.getLogger(__name__)

SCHEMA = migrations.Schema.of("intake", intake_migrations)
alembic_config = SCHEMA.alembic_config
migrate = SCHEMA.upgrade


@dataclass
class Intake:
    settings: IntakeSettings
    infra: Infrastructure
    reports: reports.Dependencies
    follow_up: follow_up.Dependencies
    integrators: integrators.Dependencies
    callbacks: callbacks.Dependencies
    open311: open311.Dependencies
    http_clients: list[httpx.AsyncClient]
    keys: auth.KeySet
    batchers: list[GroupCommit[Any, Any]]
    held_connections: list[HeldConnection]

    async def close(self) -> None:
        """Stop the consumer and the worker, write what is queued, then close every client."""
        for batcher in self.batchers:
            await batcher.close()
        for held in self.held_connections:
            await held.close()
        await self.infra.close()
        for client in self.http_clients:
            await client.aclose()


async def start(settings: IntakeSettings) -> Intake:
    """Connect, migrate, rebuild the geo index, start the consumer and callback worker."""
    keys = auth.key_set(settings.infra.auth_jwks_file)
    infra = await Infrastructure.start(settings.infra, client_id="gridloop-intake")
    await migrate(infra.engine)
    sessions = database.session_maker(infra.engine)
    geo = GeoIndex(
        infra.redis, namespace=settings.redis_namespace, window_s=settings.duplicate_window_s
    )
    ledger_http = httpx.AsyncClient(
        base_url=settings.ledger_url,
        timeout=settings.ledger_timeout_s,
        auth=ClientCredentials(
            token_url=settings.token_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
        ),
    )
    callback_http = httpx.AsyncClient(follow_redirects=False)
    ledger = LedgerClient(ledger_http)
    held = HeldConnection(infra.engine)
    claims: GroupCommit[Claim | uuid.UUID, bool | None] = GroupCommit(
        functools.partial(_write_reports, held=held), name="report claims and acceptances"
    )
    report_deps = reports.Dependencies(
        sessions=sessions,
        claims=claims,
        publisher=infra.publisher,
        geo=geo,
        reports_topic=settings.infra.topic_reports,
        publish_timeout_s=settings.publish_timeout_s,
        personal_data_key=settings.infra.personal_data_key,
        duplicate_radius_m=settings.duplicate_radius_m,
        duplicate_window=timedelta(seconds=settings.duplicate_window_s),
    )
    intake = Intake(
        settings=settings,
        infra=infra,
        reports=report_deps,
        follow_up=follow_up.Dependencies(
            sessions=sessions,
            publisher=infra.publisher,
            ledger=ledger,
            reports_topic=settings.infra.topic_reports,
            publish_timeout_s=settings.publish_timeout_s,
            personal_data_key=settings.infra.personal_data_key,
        ),
        integrators=integrator_dependencies(settings, engine=infra.engine, redis=infra.redis),
        callbacks=callbacks.Dependencies(
            sessions=sessions,
            signing_key=settings.signing_key,
            allow_private=settings.callback_allow_private,
        ),
        open311=open311.Dependencies(sessions=sessions, ledger=ledger, reports=report_deps),
        http_clients=[ledger_http, callback_http],
        keys=keys,
        batchers=[claims],
        held_connections=[held],
    )
    await rebuild_geo_index(intake)
    if settings.run_consumer:
        new_consumer = functools.partial(
            kafka.create_consumer,
            settings.infra,
            group_id=settings.consumer_group,
            client_id="gridloop-intake",
        )
        loop = kafka.ConsumerLoop(
            consumer=new_consumer(),
            renew=new_consumer,
            consumer_group=settings.consumer_group,
            topics=[settings.infra.topic_lifecycle],
            handle_batch=functools.partial(
                lifecycle.on_lifecycle, deps=lifecycle.Dependencies(sessions=sessions, geo=geo)
            ),
            publisher=infra.publisher,
            dead_letter_topic=settings.infra.topic_dead_letters,
        )
        infra.run_in_background(loop.run)
    if settings.run_callback_worker:
        worker = CallbackWorker(
            sessions=sessions,
            http=callback_http,
            settings=WorkerSettings(
                timeout_s=settings.callback_timeout_s,
                max_attempts=settings.callback_max_attempts,
                backoff_base_s=settings.callback_backoff_base_s,
                backoff_max_s=settings.callback_backoff_max_s,
                poll_interval_s=settings.callback_poll_interval_s,
                concurrency=settings.callback_concurrency,
                signing_key=settings.signing_key,
            ),
        )
        infra.run_in_background(worker.run)
    return intake


async def _write_reports(
    batch: Sequence[Claim | uuid.UUID], *, held: HeldConnection
) -> list[bool | None]:
    """Claims (taken or not) and acceptances (report ids), written in one statement."""
    claims = [item for item in batch if isinstance(item, Claim)]
    accepted = [item for item in batch if isinstance(item, uuid.UUID)]
    # One statement is its own transaction: no BEGIN and COMMIT round trips around it.
    async with held.driver() as driver:
        taken = iter(await repository.claim_many(driver=driver, reports=claims, accepted=accepted))
    return [next(taken) if isinstance(item, Claim) else None for item in batch]


def integrator_dependencies(
    settings: IntakeSettings, *, engine: AsyncEngine, redis: Redis
) -> integrators.Dependencies:
    """What key management needs; the CLI uses it without Kafka."""
    return integrators.Dependencies(
        sessions=database.session_maker(engine),
        rate_limiter=RateLimiter(redis, namespace=settings.redis_namespace),
        cache=integrators.KeyCache(ttl_s=settings.key_cache_s),
        signing_key=settings.signing_key,
        signature_window_s=settings.signature_window_s,
        default_rate_limit=settings.rate_limit_per_minute,
    )


async def rebuild_geo_index(intake: Intake) -> None:
    """Redis may have lost the index: put back the open located cases of the window."""
    window = intake.reports.duplicate_window
    async with intake.reports.sessions() as session:
        rows = await repository.open_located_since(
            session=session, since=datetime.now(UTC) - window
        )
    await intake.reports.geo.add_many(
        IndexedCase(row.incident_id, row.category, row.lat, row.lon, row.created_at)
        for row in rows
        if row.lat is not None and row.lon is not None
    )
    logger.info("geo index rebuilt with %d open cases", len(rows))
