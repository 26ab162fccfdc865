"""Command line: up, env, status, down and reset of the local stack."""

from __future__ import annotations

import argparse
import sys
import time

from .common import DEFAULT_PORTS, SERVICES, URL_ENV, StackError, log
from .packages import ensure_packages
from .ports import port_open
from .services import (
    UP,
    check_port_overrides,
    external,
    local_url,
    redact,
    render_env,
    service_pid,
    stop_all,
    wipe,
)
from .state import Layout, default_state_dir, load_state, prepare_root, state_lock

DESCRIPTION = (
    "Local development stack for gridloop: Kafka (KRaft), Redis and PostgreSQL on 127.0.0.1."
)


def cmd_up(layout: Layout, reset: bool) -> int:
    """Bring the stack up (idempotent) and print the env lines."""
    started = time.monotonic()
    prepare_root(layout)
    with state_lock(layout):
        if reset:
            stop_all(layout)
            wipe(layout)
            prepare_root(layout)
        local = [s for s in SERVICES if external(s) is None]
        ensure_packages(local)
        state = load_state(layout)
        check_port_overrides(layout, state, local)
        urls = {}
        for service in SERVICES:
            value = external(service)
            if value is not None:
                log(f"{service}: using external {URL_ENV[service]}={redact(value)}")
                urls[service] = value
            else:
                urls[service] = UP[service](layout, state)
        text = render_env(urls)
        layout.env_file.write_text(text)
    log(f"stack up in {time.monotonic() - started:.1f}s (env also in {layout.env_file})")
    sys.stdout.write(text)
    return 0


def cmd_env(layout: Layout) -> int:
    """Print the env lines of the running stack; exit 1 if part of it is down."""
    state = load_state(layout)
    urls, down = {}, []
    for service in SERVICES:
        value = external(service)
        port = state.get(service, {}).get("port")
        if value is not None:
            urls[service] = value
        elif port and service_pid(layout, state, service) and port_open(port):
            urls[service] = local_url(service, port)
        else:
            down.append(service)
    if down:
        log(f"not up: {', '.join(down)} (run: python3 {sys.argv[0]} up)")
        return 1
    sys.stdout.write(render_env(urls))
    return 0


def cmd_status(layout: Layout) -> int:
    """Print one line per server; exit 1 if any local server is down."""
    state = load_state(layout)
    all_up = True
    for service in SERVICES:
        value = external(service)
        if value is not None:
            print(f"{service:<9} external  {URL_ENV[service]}={redact(value)}")
            continue
        ports = state.get(service, {})
        port = ports.get("port", DEFAULT_PORTS[service])
        pid = service_pid(layout, state, service)
        status = "down" if pid is None else "up" if port_open(port) else "unresponsive"
        all_up = all_up and status == "up"
        extra = f" controller={ports['controller_port']}" if "controller_port" in ports else ""
        print(f"{service:<9} {status:<9} port={port}{extra} pid={pid or '-'}")
    return 0 if all_up else 1


def cmd_down(layout: Layout, wipe_data: bool) -> int:
    """Stop the stack (and optionally wipe its data)."""
    if not layout.root.exists():
        log(f"nothing to stop ({layout.root} does not exist)")
        return 0
    with state_lock(layout):
        stop_all(layout)
        if wipe_data:
            wipe(layout)
    log("stack down")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start or reuse the servers and print env lines")
    up.add_argument("--reset", action="store_true", help="stop and wipe all data first")
    commands.add_parser("env", help="print env lines for the running stack")
    commands.add_parser("status", help="one line per server")
    commands.add_parser("down", help="stop the servers started by this script")
    commands.add_parser("reset", help="stop the servers and wipe data, logs and state")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    args = parse_args(argv)
    layout = Layout(default_state_dir())
    try:
        if args.command == "up":
            return cmd_up(layout, args.reset)
        if args.command == "env":
            return cmd_env(layout)
        if args.command == "status":
            return cmd_status(layout)
        return cmd_down(layout, wipe_data=args.command == "reset")
    except StackError as exc:
        print(f"[stack] error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("[stack] interrupted", file=sys.stderr)
        return 130
