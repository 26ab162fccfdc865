"""Composition root of dispatch: wires clients, repositories, handlers and background work."""

import functools
import json
import logging
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher

from services.common import auth, database, kafka, keys, migrations
from services.common.runtime import Infrastructure
from services.dispatch import migrations as dispatch_migrations
from services.dispatch.accounts import service
from services.dispatch.adapters import case_repo, outbox, timer_store
from services.dispatch.adapters.live_state import LiveState
from services.dispatch.cases import deadline_watch, gauges, reports
from services.dispatch.cases.work import Dependencies
from services.dispatch.domain import catalogue
from services.dispatch.settings import DispatchSettings

logger = logging.getLogger(__name__)

SCHEMA = migrations.Schema.of("dispatch", dispatch_migrations)
alembic_config = SCHEMA.alembic_config
migrate = SCHEMA.upgrade


@dataclass
class Dispatch:
    infra: Infrastructure
    deps: Dependencies
    settings: DispatchSettings
    keys: auth.KeySet
    signer: service.Signer
    hasher: PasswordHasher

    async def close(self) -> None:
        """Stop the background work, mark what the broker has acknowledged, close the clients."""
        await self.infra.stop_background()
        await self.deps.confirmations.close()
        await self.infra.close()

    def jwks_document(self) -> dict[str, Any]:
        """The published public keys."""
        jwks_file = self.settings.infra.auth_jwks_file
        assert jwks_file is not None
        return dict(json.loads(jwks_file.read_text()))


def signing(settings: DispatchSettings) -> tuple[auth.KeySet, service.Signer]:
    """The public key set and the current signing key; both must be configured."""
    infra = settings.infra
    if infra.auth_jwks_file is None or infra.auth_signing_key_file is None:
        raise RuntimeError(
            "set AUTH_JWKS_FILE and AUTH_SIGNING_KEY_FILE "
            "(create them with: python -m services.common.keys new --dir DIR)"
        )
    kid, key = keys.load_signing_key(infra.auth_signing_key_file)
    signer = service.Signer(
        kid=kid,
        key=key,
        access_ttl=timedelta(seconds=settings.access_token_ttl_s),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_s),
    )
    return auth.KeySet(infra.auth_jwks_file), signer


def password_hasher(settings: DispatchSettings) -> PasswordHasher:
    """argon2id at the configured cost."""
    return service.make_hasher(
        time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib
    )


def load_catalogue(settings: DispatchSettings) -> catalogue.Catalogue:
    """The category catalogue from its configuration file."""
    with settings.catalogue_file.open("rb") as file:
        return catalogue.parse(tomllib.load(file))


async def start(settings: DispatchSettings) -> Dispatch:
    """Connect, migrate, rebuild live state, and start the configured background work."""
    key_set, signer = signing(settings)
    infra = await Infrastructure.start(settings.infra, client_id="gridloop-dispatch")
    await migrate(infra.engine)
    sessions = database.session_maker(infra.engine)
    confirmations = outbox.Confirmations(infra.publisher, infra.engine)
    deps = Dependencies(
        sessions=sessions,
        live=LiveState(
            infra.redis,
            namespace=settings.redis_namespace,
            heartbeat_ttl_s=settings.heartbeat_ttl_s,
        ),
        publisher=infra.publisher,
        lifecycle_topic=settings.infra.topic_lifecycle,
        catalogue=load_catalogue(settings),
        schedule=timer_store.TimerSchedule(infra.redis, namespace=settings.redis_namespace),
        confirmations=confirmations,
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
        new_consumer = functools.partial(
            kafka.create_consumer,
            settings.infra,
            group_id=settings.consumer_group,
            client_id="gridloop-dispatch",
        )
        loop = kafka.ConsumerLoop(
            consumer=new_consumer(),
            renew=new_consumer,
            consumer_group=settings.consumer_group,
            topics=[settings.infra.topic_reports],
            handle_batch=functools.partial(reports.handle, deps=deps),
            publisher=infra.publisher,
            dead_letter_topic=settings.infra.topic_dead_letters,
        )
        infra.run_in_background(loop.run)
    return Dispatch(
        infra=infra,
        deps=deps,
        settings=settings,
        keys=key_set,
        signer=signer,
        hasher=password_hasher(settings),
    )
