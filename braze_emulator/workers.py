"""Worker processes: HTTP and JSON decoding spread over processes, the state kept in one.

The parent owns the Backend and answers each worker over a socketpair. Each worker has its own
listening socket on the shared port (SO_REUSEPORT), so the kernel spreads the connections over
the workers. Frames: 4-byte length, 4-byte request id, then a marshal-encoded tuple (a `Call`
one way; a `Reply` plus the parent's current `Backend.fast_params()` the other). The parent
handles frames one at a time, so every request sees and leaves one consistent state, whichever
worker took the connection. Both ends read and write frames in batches.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import marshal
import os
import signal
import socket
import struct
import sys
from datetime import UTC, datetime
from typing import Any

from braze_emulator.attributes import all_plain, plain_external_id
from braze_emulator.core import Call, Reply, handle
from braze_emulator.events import plain_event
from braze_emulator.model import Backend
from braze_emulator.server import start
from braze_emulator.settings import TRACK

_HEADER = struct.Struct("!II")
_INTERNAL_ERROR = Reply(500, None, b'{"message":"Internal Server Error"}', None, 0.0)


def listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one port (SO_REUSEPORT); port 0 picks a free one."""
    sockets: list[socket.socket] = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        port = sock.getsockname()[1]
        sock.listen(1024)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def spawn_workers(sockets: list[socket.socket]) -> tuple[list[socket.socket], list[int]]:
    """Fork one worker per listening socket; return the parent's link sockets and the pids."""
    links: list[socket.socket] = []
    pids: list[int] = []
    for listener in sockets:
        parent_end, child_end = socket.socketpair()
        pid = os.fork()
        if pid == 0:  # the worker
            parent_end.close()
            for other in [*links, *(s for s in sockets if s is not listener)]:
                other.close()
            _die_with_parent()
            code = 0
            try:
                asyncio.run(_serve_worker(listener, child_end))
            except BaseException:  # noqa: BLE001 - a worker must never return into the parent
                code = 1
            os._exit(code)
        child_end.close()
        links.append(parent_end)
        pids.append(pid)
    return links, pids


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop


class _Frames(asyncio.Protocol):
    """Length-prefixed frames over a socketpair, read in batches."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        position = 0
        size = len(buffer)
        frames = []
        while size - position >= _HEADER.size:
            length, request_id = _HEADER.unpack_from(buffer, position)
            start = position + _HEADER.size
            if size - start < length:
                break
            frames.append((request_id, marshal.loads(buffer[start : start + length])))
            position = start + length
        if position:
            del buffer[:position]
        if frames:
            self.frames_received(frames)

    def frames_received(self, frames: list[tuple[int, Any]]) -> None:
        raise NotImplementedError


class _StateLink(_Frames):
    """In the parent: answer one worker's requests from the one Backend."""

    def __init__(self, backend: Backend):
        super().__init__()
        self.backend = backend

    def frames_received(self, frames: list[tuple[int, Any]]) -> None:
        backend = self.backend
        out = []
        for request_id, fields in frames:
            try:
                reply = handle(backend, Call(*fields))
            except Exception as exc:  # noqa: BLE001 - answer 500, keep serving
                print(f"braze-emulator: internal error: {exc!r}", file=sys.stderr, flush=True)
                reply = _INTERNAL_ERROR
            payload = marshal.dumps((*reply, backend.fast_params()))
            out.append(_HEADER.pack(len(payload), request_id))
            out.append(payload)
        if self.transport is not None:
            self.transport.write(b"".join(out))


class _WorkerLink(_Frames):
    """In a worker: send requests to the parent and wait for their replies."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[int, asyncio.Future[Reply]] = {}
        self.ids = itertools.count(1)
        self.params: tuple[Any, ...] | None = None  # the parent's latest fast_params()

    async def dispatch(self, call: Call) -> Reply:
        if self.transport is None:
            raise ConnectionError("the emulator's state process is gone")
        request_id = next(self.ids) & 0xFFFFFFFF
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        params = self.params
        if call.path == TRACK and params is not None and params[1]:
            call = call._replace(hint=_plain_hint(call.body, params))
        payload = marshal.dumps(tuple(call))
        self.transport.write(_HEADER.pack(len(payload), request_id) + payload)
        return await future

    def frames_received(self, frames: list[tuple[int, Any]]) -> None:
        for request_id, fields in frames:
            self.params = fields[-1]
            future = self.pending.pop(request_id, None)
            if future is not None and not future.done():
                future.set_result(Reply(*fields[:-1]))


async def _serve_worker(listener: socket.socket, link: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(_WorkerLink, sock=link)
    server = await start(protocol.dispatch, listener)
    try:
        await protocol.closed  # the parent is gone: stop
    finally:
        server.close()


async def serve_links(backend: Backend, links: list[socket.socket]) -> list[asyncio.Future[None]]:
    """In the parent: answer every worker's requests from the one Backend."""
    loop = asyncio.get_running_loop()
    closed = []
    for link in links:
        _, protocol = await loop.create_connection(lambda: _StateLink(backend), sock=link)
        closed.append(protocol.closed)
    return closed


def _plain_hint(body: object, params: tuple[Any, ...]) -> tuple[object, ...] | None:
    """Run the plain-object checks here, in the worker, so the state process can skip them:
    (params, one flag per attributes object or None, one flag per event or None)."""
    if not isinstance(body, dict):
        return None
    max_len, _, max_name, max_props = params
    objects = body.get("attributes")
    attribute_flags = None
    if isinstance(objects, list):
        if all_plain(objects, max_len):
            attribute_flags = (True,) * len(objects)
        else:
            attribute_flags = tuple(
                type(obj) is dict and plain_external_id(obj, max_len) is not None
                for obj in objects
            )
    events = body.get("events")
    event_flags = None
    if isinstance(events, list):
        now = datetime.now(UTC)
        event_flags = tuple(
            plain_event(obj, now, max_len, max_name, max_props) is not None for obj in events
        )
    return (params, attribute_flags, event_flags)


def stop_workers(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
