"""The braze-client baseline: a hand-written loop over /users/track with PyPI's braze-client.

Runs inside its own virtualenv (bench/.venv-braze-client, made by bench/braze_client_env.py),
never in the project's: braze-client 2.3.3 pins tenacity<6, whose 5.x releases use
`asyncio.coroutine` and fail to import on Python 3.11, so that venv holds braze-client installed
without its dependencies beside a newer tenacity. Standard library + braze-client only.

Reads request bodies (one JSON object per line, {"attributes": [...], "events": [...]}, as
bench/full_resend.py writes them) and sends each with BrazeClient.user_track, either one after
the other or from a thread pool (one client per thread: the client keeps per-call state on
itself). Stops starting new requests after --max-seconds. Prints one JSON line.

Env: BRAZE_API_KEY, BRAZE_REST_ENDPOINT.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from braze.client import BrazeClient, BrazeClientError


def _bodies(path: str) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


class Loop:
    def __init__(self, endpoint: str, api_key: str) -> None:
        self.endpoint = endpoint
        self.api_key = api_key
        self.local = threading.local()
        self.lock = threading.Lock()
        self.requests = 0
        self.objects = 0
        self.failed_requests = 0
        self.object_errors = 0

    def client(self) -> BrazeClient:
        if not hasattr(self.local, "client"):
            self.local.client = BrazeClient(api_key=self.api_key, api_url=self.endpoint)
        return self.local.client

    def send(self, body: dict[str, Any]) -> None:
        attributes = body.get("attributes") or None
        events = body.get("events") or None
        n = len(attributes or ()) + len(events or ())
        failed, errors = 0, 0
        try:
            response = self.client().user_track(attributes=attributes, events=events)
            errors = len(response.get("errors") or [])
        except (BrazeClientError, OSError, ValueError):
            failed = 1  # tenacity re-raises the last error after its 3 attempts
        with self.lock:
            self.requests += 1
            self.objects += n
            self.failed_requests += failed
            self.object_errors += errors


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--payloads", required=True)
    p.add_argument("--mode", choices=("sequential", "threaded"), required=True)
    p.add_argument("--workers", type=int, default=16)
    p.add_argument("--max-seconds", type=float, default=0.0, help="0 = no limit")
    args = p.parse_args()
    loop = Loop(os.environ["BRAZE_REST_ENDPOINT"].rstrip("/"), os.environ["BRAZE_API_KEY"])
    budget = args.max_seconds or float("inf")
    started = time.perf_counter()
    complete = True
    if args.mode == "sequential":
        for body in _bodies(args.payloads):
            if time.perf_counter() - started > budget:
                complete = False
                break
            loop.send(body)
    else:
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            pending: set[Future[None]] = set()
            for body in _bodies(args.payloads):
                if time.perf_counter() - started > budget:
                    complete = False
                    break
                pending.add(pool.submit(loop.send, body))
                if len(pending) >= args.workers * 2:
                    _, pending = wait(pending, return_when=FIRST_COMPLETED)
            wait(pending)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "mode": args.mode,
                "workers": 1 if args.mode == "sequential" else args.workers,
                "requests": loop.requests,
                "objects": loop.objects,
                "failed_requests": loop.failed_requests,
                "object_errors": loop.object_errors,
                "seconds": round(seconds, 3),
                "complete": complete,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
