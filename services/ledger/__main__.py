"""Ledger entrypoint: `serve` (API and consumer) or `consume` (consumer only)."""

import argparse
import asyncio

import uvicorn

from services.common import observability
from services.ledger import api, bootstrap
from services.ledger.settings import LedgerSettings, get_settings


def main() -> None:
    """Parse the command and run it."""
    parser = argparse.ArgumentParser(prog="gridloop-ledger")
    parser.add_argument("command", choices=["serve", "consume"], nargs="?", default="serve")
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
    else:
        asyncio.run(_consume(settings))


async def _consume(settings: LedgerSettings) -> None:
    ledger = await bootstrap.start(settings.model_copy(update={"run_consumer": True}))
    try:
        await asyncio.gather(*ledger.infra.background)
    finally:
        await ledger.infra.close()


if __name__ == "__main__":
    main()
