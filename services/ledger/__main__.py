"""Ledger entrypoint: serve | consume | migrate | replay | verify | revision."""

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime

import uvicorn

from services.common import observability
from services.ledger import api, bootstrap, kpis, replay, verification
from services.ledger.domain import chain
from services.ledger.settings import LedgerSettings, get_settings

COMMANDS = ("serve", "consume", "migrate", "replay", "verify", "revision")


def main() -> None:
    """Parse the command and run it."""
    parser = argparse.ArgumentParser(prog="gridloop-ledger")
    parser.add_argument("command", choices=COMMANDS, nargs="?", default="serve")
    parser.add_argument("--anchor-seq", type=int, help="verify: a published head's seq")
    parser.add_argument("--anchor-hash", help="verify: a published head's hash")
    parser.add_argument("--json", action="store_true", help="verify: print JSON")
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
    elif arguments.command == "verify":
        anchor = (
            chain.Head(arguments.anchor_seq, arguments.anchor_hash)
            if arguments.anchor_seq and arguments.anchor_hash
            else None
        )
        sys.exit(asyncio.run(_verify(settings, anchor=anchor, as_json=arguments.json)))
    elif arguments.command == "replay":
        asyncio.run(_replay(settings))
    else:
        asyncio.run(
            bootstrap.SCHEMA.run_command(
                settings.infra.database_url, arguments.command, message=arguments.message
            )
        )


async def _consume(settings: LedgerSettings) -> None:
    ledger = await bootstrap.start(settings.model_copy(update={"run_consumer": True}))
    try:
        await asyncio.gather(*ledger.infra.background)
    finally:
        await ledger.infra.close()


async def _verify(settings: LedgerSettings, *, anchor: chain.Head | None, as_json: bool) -> int:
    """Print the chain check; exit status 1 when a chain is broken."""
    engine = bootstrap.database_engine(settings)
    try:
        result = await verification.verify(engine=engine, anchor=anchor)
    finally:
        await engine.dispose()
    print(json.dumps(asdict(result), default=str) if as_json else verification.describe(result))
    return 0 if result.ok else 1


async def _replay(settings: LedgerSettings) -> None:
    """Rebuild the projection from the entries, then derive the indicator rows it cleared."""
    engine = bootstrap.database_engine(settings)
    try:
        await bootstrap.migrate(engine)
        rebuilt = await replay.rebuild(engine=engine)
        print(
            f"replayed {rebuilt.entries} entries into {rebuilt.incidents} cases "
            f"and {rebuilt.anomalies} anomalies",
            flush=True,
        )
        started = time.perf_counter()
        await kpis.derive_rows(engine=engine, settings=settings, now=datetime.now(UTC))
        print(f"indicator rows derived in {time.perf_counter() - started:.1f} s")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
