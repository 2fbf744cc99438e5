"""A small HTTP/1.1 server on asyncio: enough of the protocol for API clients, and cheap.

Why not aiohttp's server: on the 2-core machine the emulator must serve 1,500 requests of 75
objects per second; aiohttp's request machinery alone cost about 160 µs of CPU per request,
this parser about 30 µs (see docs/benchmarks.md, "Emulator throughput").

Supported: keep-alive (HTTP/1.1 default, HTTP/1.0 with `Connection: keep-alive`), pipelining
(answers in order), `Content-Length` and chunked bodies, `Expect: 100-continue`, query
strings. Malformed requests get 400 and the connection is closed; bodies over the hard limit
get 413. Each parsed request becomes a `core.Call`; the reply says what to send, how long to
wait first, or whether to drop the connection without an answer.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote

from braze_emulator.core import Call, Reply, decode_json

Dispatch = Callable[[Call], Awaitable[Reply]]
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _response(status: int, body: bytes, headers: dict[str, str] | None, close: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    if headers:
        lines.extend(f"{name}: {value}" for name, value in headers.items())
    lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HttpProtocol(asyncio.Protocol):
    def __init__(self, dispatch: Dispatch):
        self.dispatch = dispatch
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: deque[tuple[Call | None, bool, _BadRequest | None]] = deque()
        self.worker: asyncio.Task[None] | None = None
        self.closing = False
        self.continued = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.transport = None
        if self.worker is not None and not self.worker.done():
            self.worker.cancel()

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        self.buffer += data
        try:
            while self._parse_one():
                pass
        except _BadRequest as exc:
            self.pending.append((None, True, exc))
            self.closing = True
        if self.pending and (self.worker is None or self.worker.done()):
            self.worker = asyncio.get_running_loop().create_task(self._serve())

    # -- parsing --------------------------------------------------------------------------------

    def _parse_one(self) -> bool:
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD:
                raise _BadRequest(431, "Request header fields too large")
            return False
        lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise _BadRequest(400, "Malformed request line") from None
        if not version.startswith("HTTP/1.") or not target.startswith("/"):
            raise _BadRequest(400, "Malformed request line")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise _BadRequest(400, "Malformed header")
            key = name.lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        start = end + 4
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length: int | None = None
        if chunked:
            parsed = _parse_chunked(buffer, start)
            if parsed is None:
                self._maybe_continue(headers)
                return False
            body, consumed = parsed
        else:
            if "content-length" in headers:
                try:
                    length = int(headers["content-length"])
                except ValueError:
                    raise _BadRequest(400, "Bad Content-Length") from None
                if length < 0:
                    raise _BadRequest(400, "Bad Content-Length")
                if length > MAX_BODY:
                    raise _BadRequest(413, "Request Entity Too Large")
            if len(buffer) - start < (length or 0):
                self._maybe_continue(headers)
                return False
            body = bytes(buffer[start : start + (length or 0)])
            consumed = start + (length or 0)
        del buffer[:consumed]
        self.continued = False
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (
            version == "HTTP/1.1" or "keep-alive" in connection
        )
        path, _, query = target.partition("?")
        content_type = headers.get("content-type", "application/octet-stream")
        call = Call(
            method,
            unquote(path),
            dict(parse_qsl(query, keep_blank_values=True)) if query else {},
            headers.get("authorization"),
            content_type.split(";", 1)[0].strip().lower(),
            length,
            len(body),
            decode_json(body),
        )
        self.pending.append((call, not keep_alive, None))
        if not keep_alive:
            self.closing = True
            return False
        return True

    def _maybe_continue(self, headers: dict[str, str]) -> None:
        if (
            not self.continued
            and headers.get("expect", "").lower() == "100-continue"
            and self.transport is not None
        ):
            self.continued = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    # -- answering ------------------------------------------------------------------------------

    async def _serve(self) -> None:
        while self.pending and self.transport is not None:
            call, close, error = self.pending.popleft()
            if error is not None:
                body = f'{{"message": "{error.message}"}}'.encode()
                self.transport.write(_response(error.status, body, None, True))
                self.transport.close()
                return
            assert call is not None
            try:
                reply = await self.dispatch(call)
            except Exception as exc:  # noqa: BLE001 - a bug must answer 500, not hang
                print(f"braze-emulator: internal error: {exc!r}", file=sys.stderr, flush=True)
                reply = Reply(500, None, b'{"message":"Internal Server Error"}', None, 0.0)
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
            if self.transport is None:
                return
            if reply.action is not None:  # "drop" or "hang" (after its delay): no answer
                _abort(self.transport)
                return
            self.transport.write(_response(reply.status, reply.body, reply.headers, close))
            if close:
                self.transport.close()
                return


def _parse_chunked(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """(body, bytes consumed) of a complete chunked body at `start`, or None if incomplete."""
    body = bytearray()
    position = start
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size_text = bytes(buffer[position:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _BadRequest(400, "Bad chunk size") from None
        position = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", position - 2)
            if trailer_end < 0:
                return None
            return bytes(body), trailer_end + 4
        if len(buffer) < position + size + 2:
            return None
        body += buffer[position : position + size]
        if len(body) > MAX_BODY:
            raise _BadRequest(413, "Request Entity Too Large")
        position += size + 2


def _abort(transport: asyncio.Transport) -> None:
    """Close at once with a TCP reset, without an answer."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


async def start(dispatch: Dispatch, listener: socket.socket) -> asyncio.base_events.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: HttpProtocol(dispatch), sock=listener,
                                    backlog=1024)
