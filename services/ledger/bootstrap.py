"""Composition root of the ledger: wires the clients, migrations, the consumer and the read side."""

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import auth, database, envelope, kafka, migrations
from services.common.runtime import Infrastructure
from services.ledger import indicator_gauges, recording, verification
from services.ledger import migrations as ledger_migrations
from services.ledger.settings import LedgerSettings
from services.ledger.warm_states import WarmStates

SCHEMA = migrations.Schema.of("ledger", ledger_migrations)
alembic_config = SCHEMA.alembic_config
migrate = SCHEMA.upgrade


@dataclass
class Ledger:
    settings: LedgerSettings
    infra: Infrastructure
    keys: auth.KeySet

    @property
    def engine(self) -> AsyncEngine:
        return self.infra.engine


def database_engine(settings: LedgerSettings) -> AsyncEngine:
    """An engine for the one-shot commands (replay, verify, migrate)."""
    return database.create_engine(settings.infra.database_url, pool_size=2)


async def start(settings: LedgerSettings) -> Ledger:
    """Connect, migrate and (if configured) start consuming reports and lifecycle events."""
    keys = auth.key_set(settings.infra.auth_jwks_file)
    infra = await Infrastructure.start(settings.infra, client_id="gridloop-ledger")
    await migrate(infra.engine)
    if settings.run_consumer:
        new_consumer = functools.partial(
            kafka.create_consumer,
            settings.infra,
            group_id=settings.consumer_group,
            client_id="gridloop-ledger",
        )
        loop = kafka.ConsumerLoop(
            consumer=new_consumer(),
            renew=new_consumer,
            consumer_group=settings.consumer_group,
            topics=[settings.infra.topic_reports, settings.infra.topic_lifecycle],
            handle_batch=functools.partial(
                _record, engine=infra.engine, warm=WarmStates(capacity=settings.warm_cases)
            ),
            publisher=infra.publisher,
            dead_letter_topic=settings.infra.topic_dead_letters,
            max_records=settings.batch_size,
        )
        infra.run_in_background(loop.run)
        infra.run_in_background(
            functools.partial(
                verification.watch, engine=infra.engine, interval_s=settings.verify_interval_s
            )
        )
        infra.run_in_background(
            functools.partial(
                indicator_gauges.watch,
                engine=infra.engine,
                settings=settings,
                interval_s=settings.indicator_gauges_interval_s,
            )
        )
    return Ledger(settings=settings, infra=infra, keys=keys)


async def _record(
    batch: Sequence[envelope.CloudEvent], *, engine: AsyncEngine, warm: WarmStates
) -> None:
    """The consumer's batch handler: record, then let the loop commit the offsets."""
    await recording.record_batch(batch, engine=engine, warm=warm)
