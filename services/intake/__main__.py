"""Intake entrypoint: `serve`."""

import argparse

import uvicorn

from services.common import observability
from services.intake import api
from services.intake.settings import get_settings


def main() -> None:
    """Serve the intake API."""
    parser = argparse.ArgumentParser(prog="gridloop-intake")
    parser.add_argument("command", choices=["serve"], nargs="?", default="serve")
    parser.parse_args()
    settings = get_settings()
    observability.configure_logging(settings.infra.log_level)
    uvicorn.run(
        api.create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
