"""The emulator's HTTP/1.1 server, spoken to over raw sockets."""

from __future__ import annotations

import json
import socket
import weakref
from typing import Any
from urllib.parse import urlsplit


def connect(emulator) -> socket.socket:
    parts = urlsplit(emulator.base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=5)


def request(emulator, body: bytes, extra: str = "", version: str = "HTTP/1.1") -> bytes:
    head = (f"POST /users/track {version}\r\nHost: x\r\nAuthorization: Bearer {emulator.api_key}"
            f"\r\nContent-Type: application/json\r\n{extra}")
    return head.encode() + b"\r\n" + body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response; bytes of the next ones (pipelining) wait in the socket's file buffer."""
    reader = _readers.get(sock)
    if reader is None:
        reader = _readers[sock] = sock.makefile("rb")
    status_line = reader.readline()
    assert status_line, "connection closed"
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", 0)))
    return int(status_line.split()[1]), headers, body


_readers: weakref.WeakKeyDictionary[socket.socket, Any] = weakref.WeakKeyDictionary()


def closed(sock: socket.socket) -> bool:
    reader = _readers.get(sock)
    return (reader.read(1) if reader is not None else sock.recv(1)) == b""


BODY = json.dumps({"attributes": [{"external_id": "u1", "a": 1}]}).encode()


def test_keep_alive_and_pipelining(emulator):
    with connect(emulator) as sock:
        one = request(emulator, BODY, f"Content-Length: {len(BODY)}\r\n")
        sock.sendall(one * 3)
        statuses = [read_response(sock)[0] for _ in range(3)]
    assert statuses == [201, 201, 201]
    assert emulator.state()["counters"]["requests"] == 3


def test_chunked_body(emulator):
    chunks = BODY[:10], BODY[10:]
    payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    with connect(emulator) as sock:
        sock.sendall(request(emulator, payload, "Transfer-Encoding: chunked\r\n"))
        status, _, body = read_response(sock)
    assert status == 201 and json.loads(body)["attributes_processed"] == 1


def test_expect_100_continue(emulator):
    with connect(emulator) as sock:
        sock.sendall(request(emulator, b"", f"Content-Length: {len(BODY)}\r\n"
                                            "Expect: 100-continue\r\n"))
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(BODY)
        assert read_response(sock)[0] == 201


def test_http_1_0_closes_and_connection_close(emulator):
    for version, extra in (("HTTP/1.0", ""), ("HTTP/1.1", "Connection: close\r\n")):
        with connect(emulator) as sock:
            sock.sendall(request(emulator, BODY, f"Content-Length: {len(BODY)}\r\n{extra}",
                                 version))
            status, headers, _ = read_response(sock)
            assert status == 201 and headers["connection"] == "close"
            assert closed(sock)


def test_malformed_requests_get_400_and_close(emulator):
    for raw in (b"GARBAGE\r\n\r\n", b"POST /users/track HTTP/1.1\r\nno-colon\r\n\r\n",
                b"POST /users/track HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                b"POST users/track HTTP/1.1\r\n\r\n"):
        with connect(emulator) as sock:
            sock.sendall(raw)
            assert read_response(sock)[0] == 400
            assert closed(sock)


def test_query_strings_reach_the_control_plane(emulator):
    with connect(emulator) as sock:
        sock.sendall(b"GET /_emulator/state?include=data_points%2Ccounters HTTP/1.1\r\n\r\n")
        status, _, body = read_response(sock)
    assert status == 200 and set(json.loads(body)) == {"data_points", "counters"}
