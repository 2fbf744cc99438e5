"""python -m braze_emulator --port N --api-key KEY [--latency-ms MS] [--config FILE] [--workers W]

The first line printed is the base URL it serves (http://127.0.0.1:PORT). Binds 127.0.0.1 only.
--workers W (default 2) spreads HTTP and JSON decoding over W processes while one process keeps
the whole state; --workers 0 serves everything from one process.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import socket
import sys

from braze_emulator.errors import ControlError
from braze_emulator.model import Backend
from braze_emulator.server import local_dispatch, start
from braze_emulator.settings import Settings, from_sources
from braze_emulator.workers import listeners, serve_links, spawn_workers, stop_workers

HOST = "127.0.0.1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m braze_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", help="a key accepted with every permission")
    parser.add_argument("--latency-ms", type=float, default=None, help="latency per response")
    parser.add_argument("--config", help="JSON file of settings (see braze_emulator/README.md)")
    parser.add_argument("--workers", type=int, default=2, help="HTTP worker processes (0: none)")
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace) -> Settings:
    config = None
    if args.config:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
    try:
        settings = from_sources(args.api_key, config, args.latency_ms)
    except ControlError as exc:
        raise SystemExit(f"braze-emulator: bad configuration: {exc.message}") from None
    if not settings.keys:
        raise SystemExit("braze-emulator: give --api-key or keys in --config")
    return settings


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    if phase == "stop":
        gc.freeze()


def freeze_after_collections() -> None:
    """Move what survives each collection to the permanent generation, so no later collection
    scans it again. The profiles a run creates are long-lived and free of cycles; left in the
    generations, every 50th young collection (generation 1) rescanned all of them: 0.4 s of
    the state process, every request waiting, at ~800,000 profiles (a stall that cost the sync
    benchmark 3% of its rate). Each object is now scanned once, in its first young collection,
    which still frees the cycles among young objects. Objects stay freed by reference count."""
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def serve_single(backend: Backend, listener: socket.socket) -> None:
    server = await start(local_dispatch(backend), listener)
    print(f"http://{HOST}:{listener.getsockname()[1]}", flush=True)
    await _wait_for_signal()
    server.close()


async def serve_state(backend: Backend, port: int, links: list[socket.socket]) -> None:
    await serve_links(backend, links)
    print(f"http://{HOST}:{port}", flush=True)
    await _wait_for_signal()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    backend = Backend(load_settings(args))
    # The state is large and free of reference cycles: collect rarely, so a benchmark's growing
    # event list does not make every request pay for scanning it.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    if args.workers <= 0:
        freeze_after_collections()
        listener = listeners(HOST, args.port, 1)[0]
        asyncio.run(serve_single(backend, listener))
        return
    sockets = listeners(HOST, args.port, args.workers)
    port = sockets[0].getsockname()[1]
    links, pids = spawn_workers(sockets)
    freeze_after_collections()  # in the state process only: the workers hold no state
    for sock in sockets:
        sock.close()  # each worker holds its own
    try:
        asyncio.run(serve_state(backend, port, links))
    finally:
        for link in links:
            link.close()
        stop_workers(pids)
    sys.exit(0)


if __name__ == "__main__":
    main()
