"""Intake entrypoint: `serve`, key management for operators (`create-key`, `rotate-key`,
`revoke-key`, `list-keys`), `migrate` and `revision`; all but `serve` need only the database."""

import argparse
import asyncio
import json
from datetime import UTC, datetime

import uvicorn
from redis.asyncio import Redis

from services.common import database, observability
from services.common.events import Channel
from services.intake import api, bootstrap
from services.intake.integrators import handlers as integrators
from services.intake.integrators.keys import Operation
from services.intake.integrators.schemas import KeyCreate, KeyRotate
from services.intake.settings import IntakeSettings, get_settings


def main() -> None:
    """Parse the command and run it."""
    parser = argparse.ArgumentParser(prog="gridloop-intake")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the intake API (default)")
    create = commands.add_parser("create-key", help="issue an integrator key (shown once)")
    create.add_argument("--integrator", required=True)
    create.add_argument(
        "--channels", default=",".join(Channel), help="comma-separated (default: all)"
    )
    create.add_argument(
        "--operations", default=",".join(Operation), help="comma-separated (default: all)"
    )
    create.add_argument("--label")
    create.add_argument("--rate-limit", type=int, help="requests per minute")
    create.add_argument("--require-signature", action="store_true")
    rotate = commands.add_parser("rotate-key", help="issue a successor key (shown once)")
    rotate.add_argument("key_id")
    rotate.add_argument("--grace-s", type=int, help="the old key stays valid this long")
    revoke = commands.add_parser("revoke-key", help="revoke a key at once")
    revoke.add_argument("key_id")
    listing = commands.add_parser("list-keys", help="every key, without secrets")
    listing.add_argument("--integrator")
    commands.add_parser("migrate", help="bring intake's tables to the latest revision")
    revision = commands.add_parser("revision", help="autogenerate a migration")
    revision.add_argument("-m", "--message", default="change", help="what the migration does")
    arguments = parser.parse_args()
    settings = get_settings()
    observability.configure_logging(settings.infra.log_level)
    if arguments.command in (None, "serve"):
        uvicorn.run(
            api.create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
    elif arguments.command in ("migrate", "revision"):
        asyncio.run(
            bootstrap.SCHEMA.run_command(
                settings.infra.database_url,
                arguments.command,
                message=getattr(arguments, "message", None),
            )
        )
    else:
        print(json.dumps(asyncio.run(_manage_keys(settings, arguments)), indent=2, default=str))


async def _manage_keys(settings: IntakeSettings, arguments: argparse.Namespace) -> object:
    engine = database.create_engine(settings.infra.database_url, pool_size=1)
    redis = Redis.from_url(settings.infra.redis_url)
    try:
        await bootstrap.migrate(engine)
        deps = bootstrap.integrator_dependencies(settings, engine=engine, redis=redis)
        now = datetime.now(UTC)
        if arguments.command == "create-key":
            request = KeyCreate(
                integrator_id=arguments.integrator,
                channels=[Channel(c) for c in arguments.channels.split(",") if c],
                operations=[Operation(o) for o in arguments.operations.split(",") if o],
                label=arguments.label,
                rate_limit_per_minute=arguments.rate_limit,
                require_signature=arguments.require_signature,
            )
            return (await integrators.create_key(request, now=now, deps=deps)).model_dump()
        if arguments.command == "rotate-key":
            rotation = KeyRotate(grace_s=arguments.grace_s)
            issued = await integrators.rotate_key(arguments.key_id, rotation, now=now, deps=deps)
            return issued.model_dump()
        if arguments.command == "revoke-key":
            return (await integrators.revoke_key(arguments.key_id, now=now, deps=deps)).model_dump()
        keys = await integrators.list_keys(integrator_id=arguments.integrator, deps=deps)
        return [key.model_dump() for key in keys]
    finally:
        await redis.aclose()
        await engine.dispose()


if __name__ == "__main__":
    main()
