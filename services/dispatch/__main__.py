"""Dispatch entrypoint: `serve` (API and consumer), `consume` (consumer only), `load-demo`."""

import argparse
import asyncio
import logging

import uvicorn

from services.common import database, observability
from services.dispatch import api, bootstrap, demo_community
from services.dispatch.adapters import roster_repo, tables
from services.dispatch.settings import DispatchSettings, get_settings

logger = logging.getLogger(__name__)


def main() -> None:
    """Parse the command and run it."""
    parser = argparse.ArgumentParser(prog="gridloop-dispatch")
    parser.add_argument("command", choices=["serve", "consume", "load-demo"])
    parser.add_argument("--seed", type=int, default=586, help="demo community seed")
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
    else:
        asyncio.run(_load_demo(settings, seed=arguments.seed))


async def _consume(settings: DispatchSettings) -> None:
    dispatch = await bootstrap.start(settings.model_copy(update={"run_consumer": True}))
    try:
        await asyncio.gather(*dispatch.infra.background)
    finally:
        await dispatch.infra.close()


async def _load_demo(settings: DispatchSettings, *, seed: int) -> None:
    engine = database.create_engine(settings.infra.database_url)
    try:
        await database.create_tables(engine, tables.ALL_TABLES)
        community = demo_community.generate(seed)
        async with database.session_maker(engine)() as session:
            await roster_repo.load_community(session=session, community=community)
        logger.info(
            "loaded demo community: %d grids, %d members, %d households, %d residents",
            len(community.grids),
            len(community.members),
            len(community.households),
            len(community.residents),
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
