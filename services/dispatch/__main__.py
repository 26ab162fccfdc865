"""Dispatch entrypoint: `serve` (API and consumer), `consume` (consumer only), `load-demo`,
`create-account`, `migrate` and `revision` (autogenerates a migration)."""

import argparse
import asyncio
import getpass
import logging
import os
from datetime import UTC, datetime

import uvicorn

from services.common import auth, database, observability
from services.dispatch import api, bootstrap, demo_community
from services.dispatch.accounts import service
from services.dispatch.adapters import roster_repo
from services.dispatch.settings import DispatchSettings, get_settings

logger = logging.getLogger(__name__)


def main() -> None:
    """Parse the command and run it."""
    parser = argparse.ArgumentParser(prog="gridloop-dispatch")
    parser.add_argument(
        "command",
        choices=["serve", "consume", "load-demo", "create-account", "migrate", "revision"],
    )
    parser.add_argument("--seed", type=int, default=586, help="demo community seed")
    parser.add_argument("--username", help="create-account: the sign-in name")
    parser.add_argument("--role", choices=[role.value for role in auth.Role], default="operator")
    parser.add_argument("--member-id", help="create-account: the roster member it belongs to")
    parser.add_argument("-m", "--message", help="revision: what the new migration does")
    arguments = parser.parse_args()
    settings = get_settings()
    observability.configure_logging(settings.infra.log_level)
    if arguments.command == "serve":
        uvicorn.run(
            api.create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
    elif arguments.command == "consume":
        asyncio.run(_consume(settings))
    elif arguments.command == "create-account":
        asyncio.run(_create_account(settings, arguments))
    elif arguments.command in ("migrate", "revision"):
        asyncio.run(
            bootstrap.SCHEMA.run_command(
                settings.infra.database_url, arguments.command, message=arguments.message
            )
        )
    else:
        asyncio.run(_load_demo(settings, seed=arguments.seed))


async def _consume(settings: DispatchSettings) -> None:
    dispatch = await bootstrap.start(settings.model_copy(update={"run_consumer": True}))
    try:
        await asyncio.gather(*dispatch.infra.background)
    finally:
        await dispatch.close()


async def _load_demo(settings: DispatchSettings, *, seed: int) -> None:
    engine = database.create_engine(settings.infra.database_url)
    try:
        await bootstrap.migrate(engine)
        community = demo_community.generate(seed)
        async with database.session_maker(engine)() as session:
            await roster_repo.load_community(session=session, community=community)
        async with database.session_maker(engine)() as session, session.begin():
            hasher = bootstrap.password_hasher(settings)
            for account in await service.demo_accounts(
                session=session, now=datetime.now(UTC), hasher=hasher
            ):
                await session.merge(account)
        logger.info(
            "loaded demo community: %d grids, %d members, %d households, %d residents",
            len(community.grids),
            len(community.members),
            len(community.households),
            len(community.residents),
        )
    finally:
        await engine.dispose()


async def _create_account(settings: DispatchSettings, arguments: argparse.Namespace) -> None:
    """Create an account; the password is read from GRIDLOOP_NEW_PASSWORD or asked for."""
    if not arguments.username:
        raise SystemExit("--username is required")
    password = os.environ.get("GRIDLOOP_NEW_PASSWORD") or getpass.getpass("password: ")
    if len(password) < 12:
        raise SystemExit("the password must have at least 12 characters")
    engine = database.create_engine(settings.infra.database_url)
    try:
        await bootstrap.migrate(engine)
        account = service.new_account(
            username=arguments.username,
            password=password,
            role=auth.Role(arguments.role),
            member_id=arguments.member_id,
            now=datetime.now(UTC),
            hasher=bootstrap.password_hasher(settings),
        )
        async with database.session_maker(engine)() as session, session.begin():
            session.add(account)
        print(f"created {arguments.role} account {arguments.username}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
