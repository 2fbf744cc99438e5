"""The HTTP front: which dispatcher answers the requests the HTTP server (httpserver.py) parses.

Single-process mode calls `core.handle` directly. With workers, each worker process runs the
HTTP server on the shared listening socket and forwards every decoded request over a
socketpair to the one process that owns the state (see workers.py), so the state stays one
consistent whole.
"""

from __future__ import annotations

from braze_emulator.core import Call, Reply, handle
from braze_emulator.httpserver import Dispatch, start
from braze_emulator.model import Backend

__all__ = ["Dispatch", "local_dispatch", "start"]


def local_dispatch(backend: Backend) -> Dispatch:
    async def dispatch(call: Call) -> Reply:
        return handle(backend, call)

    return dispatch
