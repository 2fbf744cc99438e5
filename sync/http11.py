"""A minimal HTTP/1.1 keep-alive POST client on asyncio protocols (ADR 0010).

Per request it costs a fraction of aiohttp's CPU: the request head is pre-encoded once, a
response is parsed from one buffer, and a connection is reused as long as the server keeps it.
It does what /users/track needs and no more: POST with a body, Content-Length or chunked
responses (or read to close), TLS verified with the default context. Outcomes are typed so
the caller can tell "never sent" (connect errors, connect timeout) from "sent, no answer".
The Authorization header is in `head` only; no exception message built here contains it.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit


class HttpError(Exception):
    """Base class of the client's outcomes."""


class ConnectFailed(HttpError):
    """The connection could not be opened (refused, DNS, unreachable): nothing was sent."""


class ConnectTimeout(HttpError):
    """Opening the connection timed out: nothing was sent."""


class TlsCertificateError(HttpError):
    """The server's certificate failed verification."""


class TlsError(HttpError):
    """Another TLS failure while connecting."""


class NoResponse(HttpError):
    """The request was (maybe) sent and no complete response came: timeout, reset, close."""


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers  # names lower-cased
        self.body = body


class _Conn(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.fut: asyncio.Future[Response] | None = None
        self.closed = False
        self.keep = True
        self._head: tuple[int, dict[str, str], int] | None = None  # status, headers, body at

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        fut = self.fut
        if fut is not None and not fut.done():
            if self._head is not None and self._until_close():
                self._finish(bytes(self.buf[self._head[2]:]))
                return
            self.fut = None
            why = type(exc).__name__ if exc else "EOF"
            fut.set_exception(NoResponse(f"connection closed before a complete response ({why})"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.fut is None:
            return
        try:
            self._parse()
        except ValueError as exc:
            fut, self.fut = self.fut, None
            self.keep = False
            if fut is not None and not fut.done():
                fut.set_exception(NoResponse(f"malformed response ({exc})"))
            self.close()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost decides

    # parsing
    def _until_close(self) -> bool:
        assert self._head is not None
        h = self._head[1]
        return "content-length" not in h and "chunked" not in h.get("transfer-encoding", "")

    def _parse(self) -> None:
        buf = self.buf
        if self._head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > 65536:
                    raise ValueError("response head too large")
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                raise ValueError("bad status line")
            status = int(parts[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            if parts[0] == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
                self.keep = False
            self._head = (status, headers, end + 4)
            if 100 <= status < 200:  # interim (100 Continue): skip it
                del buf[:end + 4]
                self._head = None
                self._parse()
                return
        _, headers, start = self._head
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._chunked(start)
            if body is not None:
                self._finish(body)
            return
        length = headers.get("content-length")
        if length is not None:
            n = int(length)
            if len(buf) - start >= n:
                self._finish(bytes(buf[start:start + n]))
            return
        self.keep = False  # read to close

    def _chunked(self, pos: int) -> bytes | None:
        buf = self.buf
        out = bytearray()
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0].strip() or b"0", 16)
            pos = eol + 2
            if size == 0:
                end = buf.find(b"\r\n\r\n", pos - 2)
                return bytes(out) if end >= 0 else None
            if len(buf) < pos + size + 2:
                return None
            out += buf[pos:pos + size]
            pos += size + 2

    def _finish(self, body: bytes) -> None:
        assert self._head is not None
        status, headers, _ = self._head
        self._head = None
        self.buf = bytearray()
        fut, self.fut = self.fut, None
        if fut is not None and not fut.done():
            fut.set_result(Response(status, headers, body))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Http11Client:
    """POST to one origin over a pool of keep-alive connections."""

    def __init__(self, base_url: str, headers: dict[str, str], connect_timeout_s: float,
                 request_timeout_s: float) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "localhost"
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.ssl: ssl.SSLContext | None = ssl.create_default_context() if self.tls else None
        host_header = parts.netloc.rsplit("@", 1)[-1]
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in
                              {"Host": host_header, **headers}.items())
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self._idle: list[_Conn] = []
        self._all: set[_Conn] = set()

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(_Conn, self.host, self.port, ssl=self.ssl),
                self.connect_timeout_s)
        except TimeoutError:
            raise ConnectTimeout("connect timeout") from None
        except ssl.SSLCertVerificationError as exc:
            raise TlsCertificateError(str(exc.verify_message or exc.reason)) from None
        except ssl.SSLError as exc:
            raise TlsError(type(exc).__name__) from None
        except OSError as exc:
            raise ConnectFailed(type(exc).__name__) from None
        self._all.add(conn)
        return conn

    async def post(self, path: str, body: bytes) -> Response:
        idle = self._idle
        conn = None
        while idle:
            c = idle.pop()
            if not c.closed:
                conn = c
                break
            self._all.discard(c)
        if conn is None:
            conn = await self._connect()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Response] = loop.create_future()
        conn.fut = fut
        assert conn.transport is not None
        conn.transport.write(
            (f"POST {path} HTTP/1.1\r\n{self._fixed}Content-Length: {len(body)}\r\n\r\n"
             ).encode("latin-1") + body)
        timer = loop.call_later(self.request_timeout_s, _expire, fut)
        try:
            resp = await fut
        except BaseException:
            conn.fut = None
            conn.close()
            self._all.discard(conn)
            raise
        finally:
            timer.cancel()
        if conn.keep and not conn.closed:
            idle.append(conn)
        else:
            conn.close()
            self._all.discard(conn)
        return resp

    async def close(self) -> None:
        for c in list(self._all):
            c.close()
        self._all.clear()
        self._idle.clear()
        await asyncio.sleep(0)


def _expire(fut: asyncio.Future[Response]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError("no response within the request timeout"))
