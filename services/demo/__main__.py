"""`make run`: the three services, the demo community, a live stream of incidents being handled.

Expects the infrastructure settings in the environment (the Makefile brings up the local stack).
Ctrl-C stops every process it started.
"""

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import tempfile
import time
from pathlib import Path

import httpx

from services.common import keys
from services.demo import incidents, integrator, officers
from services.demo.processes import ServiceProcess

logger = logging.getLogger("gridloop.demo")
PORTS = {"intake": 8001, "dispatch": 8002, "ledger": 8003}
DEMO_CATALOGUE = Path(__file__).with_name("catalogue.toml")


SIGN_IN_HELP = """
Sign in as an officer (party member P002) or as the grid leader of grid G01 (P001):
  curl -s -d username=P002 -d password=demo-P002 127.0.0.1:8002/v1/auth/token
  curl -s -d username=P001 -d password=demo-P001 127.0.0.1:8002/v1/auth/token
then call e.g.  curl -H "Authorization: Bearer <access_token>" 127.0.0.1:8002/v1/me/tasks
(demo accounts only: every member, plus `operator` and `viewer`, password demo-<username>;
 intake reads the ledger as the service account `intake`, grant_type=client_credentials)
"""


def _signing_keys(log_dir: Path) -> dict[str, str]:
    """A signing key for this demo run, unless the environment names one."""
    if os.environ.get("AUTH_SIGNING_KEY_FILE"):
        return {}
    _, signing_key = keys.new_key(log_dir / "keys")
    return {
        "AUTH_SIGNING_KEY_FILE": str(signing_key),
        "AUTH_JWKS_FILE": str(signing_key.with_name(keys.JWKS_NAME)),
    }


def main() -> None:
    """Start everything, feed incidents, print a live summary until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m services.demo")
    parser.add_argument("--rate", type=float, default=2.0, help="incidents per second")
    parser.add_argument(
        "--duration", type=float, default=0, help="seconds to run (0: until Ctrl-C)"
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    log_dir = Path(
        os.environ.get("GRIDLOOP_DEMO_LOG_DIR") or tempfile.mkdtemp(prefix="gridloop-demo-")
    )
    env = {
        "DISPATCH_CATALOGUE_FILE": str(DEMO_CATALOGUE),
        # demo accounts are hashed at a light argon2id cost so that loading stays quick
        "DISPATCH_PASSWORD_TIME_COST": "1",
        "DISPATCH_PASSWORD_MEMORY_KIB": "8192",
        # intake reads the ledger as the demo's service account `intake`
        "INTAKE_CLIENT_SECRET": "demo-intake",
        # the demo's service logs tell every report, decision and event (ADR 47)
        "LOG_LEVEL": "DEBUG",
        **_signing_keys(log_dir),
        **os.environ,
    }
    loader = ServiceProcess("dispatch", env, log_dir, command="load-demo", port=PORTS["dispatch"])
    print("loading the demo community (9 grids, 60 party members, 586 households, 2,196 residents)")
    loader.run_to_completion()
    api_key = integrator.provision_key(env, integrator="demo-feeder")["api_key"]
    running: list[ServiceProcess] = []
    try:
        for name in ("dispatch", "ledger", "intake"):
            process = ServiceProcess(name, env, log_dir, port=PORTS[name])
            running.append(process)
            process.start()
            print(f"{name:9s} ready on {process.url}  (docs: {process.url}/docs)")
        print(f"service logs in {log_dir}")
        print(SIGN_IN_HELP)
        asyncio.run(_feed(rate=arguments.rate, duration=arguments.duration, api_key=api_key))
        print("\nstopping")
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        for process in reversed(running):
            process.stop()


async def _feed(*, rate: float, duration: float, api_key: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if duration:
        loop.call_later(duration, stop.set)
    dispatch_url, intake_url, ledger_url = (
        f"http://127.0.0.1:{PORTS[n]}" for n in ("dispatch", "intake", "ledger")
    )
    workers = [
        asyncio.create_task(
            officers.work(dispatch_url, stop=stop, intake_url=intake_url, api_key=api_key)
        ),
        asyncio.create_task(_report(intake_url, rate=rate, stop=stop, api_key=api_key)),
        asyncio.create_task(_summarise(ledger_url, stop=stop)),
    ]
    await stop.wait()
    for worker in workers:
        worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*workers, return_exceptions=True)


async def _report(intake_url: str, *, rate: float, stop: asyncio.Event, api_key: str) -> None:
    bodies = incidents.stream()
    headers = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=intake_url, timeout=10, headers=headers) as client:
        while not stop.is_set():
            body = next(bodies)
            try:
                response = await client.post("/v1/incidents", json=body)
                if response.status_code != 202:
                    logger.warning("intake answered %s: %s", response.status_code, response.text)
            except httpx.HTTPError as error:
                logger.warning("intake unreachable: %s", error)
            await asyncio.sleep(1 / rate)


async def _summarise(ledger_url: str, *, stop: asyncio.Event) -> None:
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=ledger_url, timeout=10) as client:
        while not stop.is_set():
            await asyncio.sleep(5)
            try:
                stats = (await client.get("/v1/stats")).json()
            except httpx.HTTPError as error:
                logger.warning("ledger unreachable: %s", error)
                continue
            by = stats["by_status"]
            print(
                f"[{time.monotonic() - started:6.0f}s] reported {stats['total']:5d} | "
                f"assigned {by['assigned']:4d} | accepted {by['accepted']:4d} | "
                f"in progress {by['in_progress']:3d} | resolved {by['resolved']:4d} | "
                f"closed {by['closed']:5d} | transferred {by['transferred']:3d}",
                flush=True,
            )


if __name__ == "__main__":
    main()
