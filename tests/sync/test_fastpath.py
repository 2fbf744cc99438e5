"""The set-based attribute path (sync/fastpath.py) and the HTTP/1.1 client (sync/http11.py).

The staged path must build the same objects and reject the same rows as the row-by-row path
of sync/payloads.py: checked here differentially on awkward rows, on a real warehouse.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sync import payloads
from sync.fastpath import StagedBatch, merge_ranges
from sync.http11 import ConnectFailed, Http11Client, NoResponse
from sync.payloads import Rejection
from sync.warehouse import Warehouse, checkpoint_threshold, memory_bytes
from tests.sync.helpers import add_attributes, add_events

AWKWARD = [
    ("external_id", "plain", "AIQ_1_1", "true"),
    ("external_id", "plain", "score", "-12.5"),
    ("external_id", "plain", "big", "12345678901234567890"),  # not in the fast pattern: exact
    ("external_id", "plain", "tiny", "1e-7"),
    ("external_id", "plain", "huge", "1e999"),  # not finite: rejected
    ("external_id", 'quote"and\\slash', "nick", '"a \\"b\\" \\u00e9 \\n"'),
    ("external_id", "unicodé-ключ", "naïve \"name\"", '"ok"'),
    ("external_id", "u2", "nested", '{"a": [1, 2, {"b": null}]}'),
    ("external_id", "u2", "list", '["x", "y"]'),
    ("external_id", "u2", "bad_nested", '{"$x": 1}'),
    ("external_id", "u2", "long", json.dumps("x" * 256)),
    ("external_id", "u2", "long_ok", json.dumps("é" * 255)),
    ("external_id", "u2", "$dollar", "1"),
    ("external_id", "u2", "email", '"a@b.c"'),  # reserved profile field
    ("external_id", "u2", "", "1"),
    ("external_id", "u2", "n" * 256, "1"),
    ("external_id", "u2", "broken", "{nope"),
    ("external_id", "u2", "nullish", "null"),
    ("external_id", "", "AIQ_1_1", "true"),
    ("external_id", "x" * 988, "AIQ_1_1", "true"),
    ("user_alias", "u3", "AIQ_1_1", "true"),
    ("braze_id", "b1", "AIQ_1_1", "false"),
    ("external_id", "tab\there", "AIQ_1_1", "true"),
]


def _objects(items: list[payloads.Item]) -> list[dict]:
    return [json.loads(i.text) for i in items]


def _reasons(rejected: list[Rejection]) -> list[tuple[str, str, str]]:
    return sorted((r.row[1], r.row[2], r.reason) for r in rejected)


def test_staged_objects_and_rejections_match_the_row_path(warehouse: Path):
    add_attributes(warehouse, AWKWARD)
    wh = Warehouse(str(warehouse), threads=1)
    try:
        old_rejected: list[Rejection] = []
        old = _objects(list(payloads.attribute_items_from_chunks(
            wh.iter_pending_attributes(7), old_rejected)))
        new_rejected: list[Rejection] = []
        assert wh.stage_attributes(new_rejected) == len(AWKWARD)
        new_items = [i for chunk in wh.iter_staged_objects(3) for i in chunk]
        assert _objects(new_items) == old and len(old) == 6
        assert sum(len(i.rows) for i in new_items) == sum(
            len(o) - 1 for o in old)  # one change per key besides the identifier
        assert _reasons(new_rejected) == _reasons(old_rejected) and len(old_rejected) == 11
        # Whole requests of at most two objects; the last group comes back as Items.
        got = list(wh.staged.batches(2, 100))  # type: ignore[union-attr]
        flat: list[dict] = []
        for g in got[:-1]:
            assert isinstance(g, StagedBatch) and 1 <= g.objects <= 2
            flat += json.loads(g.body())["attributes"]
        is_last, items = got[-1]  # type: ignore[misc]
        assert is_last is True and items
        assert flat + _objects(items) == old
    finally:
        wh.close()


def test_staged_events_match_the_direct_query_in_order(warehouse: Path):
    base = datetime(2026, 11, 1)
    # Times out of insertion order and ties broken by event_id; one already delivered.
    rows = [(f"e{i:03d}", "external_id", f"u{i % 7}", "purchase",
             base + timedelta(minutes=(i * 37) % 50), '{"n":' + str(i) + "}") for i in range(120)]
    add_events(warehouse, rows)
    wh = Warehouse(str(warehouse), threads=1)
    try:
        wh.con.execute("insert into sync_delivered_events values ('e005', 'external_id', 'u5', "
                       "'purchase', null, 'acknowledged', 'r0', null)")
        direct = [r for chunk in wh.iter_pending_events(1000) for r in chunk]
        assert len(direct) == 119 and all(r.event_id != "e005" for r in direct)
        assert direct == sorted(direct, key=lambda r: (r.event_time, r.event_id))
        assert wh.stage_events() == 119
        staged = [r for chunk in wh.iter_pending_events(11) for r in chunk]
        assert staged == direct
        stage = Path(f"{warehouse}.sync-stage")
        assert stage.exists()
    finally:
        wh.close()
    assert not stage.exists()  # the scratch file goes with the connection


def test_checkpoint_threshold_is_a_quarter_of_the_memory_limit_at_most():
    assert memory_bytes("953.6 MiB") == int(953.6 * 1024**2)
    assert memory_bytes("1.0 GiB") == 1024**3
    assert memory_bytes("64MB") == 64 * 1000**2
    assert memory_bytes("lots") is None
    assert checkpoint_threshold(memory_bytes("8 GiB")) == 256 * 1024**2
    assert checkpoint_threshold(memory_bytes("256 MiB")) == 64 * 1024**2
    assert checkpoint_threshold(memory_bytes("32 MiB")) == 16 * 1024**2
    assert checkpoint_threshold(None) == 256 * 1024**2


def test_merge_ranges():
    assert merge_ranges([(5, 9), (1, 2), (3, 4), (11, 12), (10, 10), (20, 30)]) == [
        (1, 12), (20, 30)]
    assert merge_ranges([]) == []


# ---- HTTP/1.1 client ----------------------------------------------------------------------------

async def _serve(responses: list[bytes], seen: list[bytes], close_after: bool = False):
    """A server answering each request with the next canned response."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while responses:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                          if ln.lower().startswith(b"content-length")][0])
            seen.append(head + await reader.readexactly(length))
            resp = responses.pop(0)
            if resp:
                writer.write(resp)
                await writer.drain()
            if close_after or not resp:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def test_http11_keep_alive_chunked_close_and_no_answer():
    async def main() -> None:
        seen: list[bytes] = []
        responses = [
            b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-RateLimit-Remaining: 7\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n",
            b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            b"",  # the server closes without answering
        ]
        server, url = await _serve(responses, seen)
        client = Http11Client(url, {"Authorization": "Bearer k"}, 2.0, 2.0)
        r1 = await client.post("/users/track", b'{"x":1}')
        assert (r1.status, r1.body, r1.headers["x-ratelimit-remaining"]) == (201, b"{}", "7")
        r2 = await client.post("/users/track", b"{}")
        assert (r2.status, r2.body) == (200, b'{"a":1}')
        r3 = await client.post("/users/track", b"{}")
        assert r3.status == 500
        with pytest.raises(NoResponse):
            await client.post("/users/track", b"{}")
        assert seen[0].startswith(b"POST /users/track HTTP/1.1\r\n")
        assert b"Authorization: Bearer k\r\n" in seen[0] and seen[0].endswith(b'{"x":1}')
        await client.close()
        server.close()
        await server.wait_closed()

        # An answer that never comes: the request timeout fires.
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(5)

        quiet = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = quiet.sockets[0].getsockname()[1]
        slow = Http11Client(f"http://127.0.0.1:{port}", {}, 1.0, 0.3)
        with pytest.raises(TimeoutError):
            await slow.post("/users/track", b"{}")
        await slow.close()
        quiet.close()
        # Nothing listening: a connect failure (never sent).
        with pytest.raises(ConnectFailed):
            await Http11Client(f"http://127.0.0.1:{port}", {}, 1.0, 1.0).post("/x", b"{}")

    asyncio.run(main())
