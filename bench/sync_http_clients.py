"""Which HTTP client can carry ~1,000 /users/track requests per second on 2 cores?

Sends the same pre-encoded 75-object bodies to the null server of bench/sync_throughput.py
(answers 201 after --latency-ms) with: sync/http11.py (the sync's own keep-alive HTTP/1.1
client, one asyncio loop), aiohttp (one asyncio loop, N concurrent requests),
urllib3 (a thread pool sharing one PoolManager) and requests (a thread pool, one Session per
thread). Client work only: no payload building, no warehouse. Prints one JSON line per client,
with the client process's CPU per request (time.process_time: every thread of this process,
not the server), the figure that matters on a shared machine.

    .venv/bin/python bench/sync_http_clients.py --requests 3000 --concurrency 96
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sync_throughput import null_server  # noqa: E402

HEADERS = {"Authorization": "Bearer bench", "Content-Type": "application/json"}


def bodies(n: int) -> list[bytes]:
    return [
        json.dumps(
            {"attributes": [{"external_id": f"u{i}-{j}", "AIQ_1042_1": True} for j in range(75)]}
        ).encode()
        for i in range(n)
    ]


def with_http11(url: str, data: list[bytes], concurrency: int) -> float:
    from sync.http11 import Http11Client

    base, path = url.rsplit("/users/", 1)

    async def run() -> float:
        client = Http11Client(base, HEADERS, 5.0, 30.0)
        todo = list(data)
        started = time.perf_counter()

        async def worker() -> None:
            while todo:
                resp = await client.post("/users/" + path, todo.pop())
                assert resp.status == 201

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        await client.close()
        return seconds

    return asyncio.run(run())


def with_aiohttp(url: str, data: list[bytes], concurrency: int) -> float:
    import aiohttp

    async def run() -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector, headers=HEADERS) as session:
            todo = list(data)
            started = time.perf_counter()

            async def worker() -> None:
                while todo:
                    body = todo.pop()
                    async with session.post(url, data=body) as resp:
                        await resp.read()
                        assert resp.status == 201

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    return asyncio.run(run())


def with_threads(url: str, data: list[bytes], concurrency: int, kind: str) -> float:
    local = threading.local()
    if kind == "urllib3":
        import urllib3

        pool = urllib3.PoolManager(maxsize=concurrency)

        def send(body: bytes) -> None:
            resp = pool.request("POST", url, body=body, headers=HEADERS)
            assert resp.status == 201
    else:
        import requests

        def send(body: bytes) -> None:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            resp = session.post(url, data=body, headers=HEADERS)
            assert resp.status_code == 201

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as ex:
        list(ex.map(send, data))
    return time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=96)
    p.add_argument("--latency-ms", type=float, default=50.0)
    args = p.parse_args()
    data = bodies(args.requests)
    with null_server(args.latency_ms) as base:
        url = f"{base}/users/track"
        for name in ("http11", "aiohttp", "urllib3", "requests"):
            cpu = time.process_time()
            if name == "http11":
                seconds = with_http11(url, data, args.concurrency)
            elif name == "aiohttp":
                seconds = with_aiohttp(url, data, args.concurrency)
            else:
                seconds = with_threads(url, data, args.concurrency, name)
            cpu = time.process_time() - cpu
            print(
                json.dumps(
                    {
                        "client": name,
                        "requests": args.requests,
                        "concurrency": args.concurrency,
                        "latency_ms": args.latency_ms,
                        "requests_per_second": round(args.requests / seconds, 1),
                        "cpu_ms_per_request": round(cpu * 1000 / args.requests, 3),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
