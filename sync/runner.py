"""The runner owns one sync run: read pending changes, batch, send concurrently, record.

Data flow (one asyncio loop, two helper threads for DuckDB):

    reader thread: stage attributes in DuckDB (sync/fastpath.py) -> request bodies built by
                   DuckDB (StagedBatch), events as payload items -> queue ──► N senders (http11)
    recorder: every commit_interval_s, one DuckDB transaction for everything acknowledged ◄──┘
              (staged objects by range, INSERT ... SELECT; events row by row)

Nothing is recorded before Braze acknowledged it, and acknowledged outcomes are committed within
about commit_interval_s, so a kill at any moment re-sends at most the requests in flight plus
those acknowledged but not yet committed (docs/decisions/0011).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sync import payloads
from sync.braze import (
    BrazeBadRequestError,
    BrazeFatalError,
    BrazeOutcomeUnknownError,
    BrazeRetriableError,
    RateBudget,
    TrackClient,
)
from sync.config import Settings
from sync.fastpath import StagedBatch
from sync.payloads import AttrRow, Batch, EventRow, Item, Rejection
from sync.warehouse import Outcomes, Warehouse

log = logging.getLogger("sync.runner")
BATCHES_PER_READ = 64


@dataclass
class RunResult:
    run_id: str
    status: str  # success / partial / failed / interrupted
    totals: dict[str, int]
    pending_left: int
    seconds: float
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        rate = self.totals.get("requests", 0) / self.seconds if self.seconds else 0.0
        return {"command": "run", "run_id": self.run_id, "status": self.status,
                **self.totals, "rows_left_pending": self.pending_left,
                "seconds": round(self.seconds, 3), "requests_per_second": round(rate, 1),
                "error": self.error, **self.extra}


class Progress:
    """Counters the progress display reads."""

    def __init__(self, total_rows: int) -> None:
        self.total_rows = total_rows
        self.done_rows = 0
        self.started = time.monotonic()


class Runner:
    def __init__(self, settings: Settings, warehouse: Warehouse,
                 on_progress: Callable[[dict[str, Any]], None] | None = None,
                 progress_interval_s: float = 0.5, fast: bool = True) -> None:
        self.s = settings
        # fast: attributes staged, built and recorded by DuckDB (sync/fastpath.py).
        self.fast = fast
        self.wh = warehouse
        self.on_progress = on_progress
        self.progress_interval_s = progress_interval_s
        self.totals: dict[str, int] = {
            "requests": 0, "attribute_changes_sent": 0, "attribute_changes_rejected": 0,
            "events_sent": 0, "events_rejected": 0, "events_outcome_unknown": 0,
            "data_points": 0, "retries": 0, "rate_limited": 0}
        self.pending_left = 0
        self.fatal: BrazeFatalError | None = None
        self.interrupted = False
        # Set when writing what Braze acknowledged failed (e.g. a full disk): nothing more is
        # sent, since nothing more could be recorded (the re-send bound of ADR 0011).
        self.recording_failed = False
        self.stopping = False
        self._buf = Outcomes([], [], [], [])
        self._buf_rows = 0
        self._flush_now = asyncio.Event()
        self.client: TrackClient | None = None
        self.total_rows = 0
        self.done_rows = 0
        # read_s/record_s: time waiting on DuckDB; send_s: first request queued to last answer.
        self.timings = {"read_s": 0.0, "record_s": 0.0, "commits": 0, "queue_empty": 0,
                        "count_s": 0.0, "send_s": 0.0}
        self._first_send: float | None = None

    # ---- reading (runs in the reader thread) ----------------------------------------------------

    def _batches(self, rejected: list[Rejection]) -> Iterator[Batch | StagedBatch]:
        chunk = self.s.read_chunk_rows

        def staged_items() -> Iterator[Item]:
            for items in self.wh.iter_staged_objects(chunk):
                if self.stopping:
                    return
                yield from items

        def attr_chunks() -> Iterator[list[AttrRow]]:
            for rows in self.wh.iter_pending_attributes(chunk):
                if self.stopping:
                    return
                yield rows

        def event_rows() -> Iterator[EventRow]:
            for rows in self.wh.iter_pending_events(chunk):
                if self.stopping:
                    return
                yield from rows

        if self.fast and not self.s.legacy_per_array:
            yield from self._staged_batches(event_rows(), rejected)
            return
        attr_items = (staged_items() if self.fast
                      else payloads.attribute_items_from_chunks(attr_chunks(), rejected))
        yield from payloads.batches(attr_items, payloads.event_items(event_rows(), rejected),
                                    self.s.objects_per_request, self.s.legacy_per_array)

    def _staged_batches(self, events: Iterator[EventRow], rejected: list[Rejection]
                        ) -> Iterator[Batch | StagedBatch]:
        """Whole requests from DuckDB; the last group (and oversized ones) via the Batcher."""
        assert self.wh.staged is not None
        n = self.s.objects_per_request
        for got in self.wh.staged.batches(n, self.s.read_chunk_rows):
            if self.stopping:
                return
            if isinstance(got, StagedBatch):
                yield got
                continue
            is_last, items = got
            if not is_last:
                yield from payloads.batches(items, (), n)
                continue
            yield from payloads.batches(items, payloads.event_items(events, rejected), n)
            return
        yield from payloads.batches((), payloads.event_items(events, rejected), n)

    @staticmethod
    def _take(it: Iterator[Batch | StagedBatch], n: int) -> list[Batch | StagedBatch]:
        out = []
        for b in it:
            out.append(b)
            if len(out) >= n:
                break
        return out

    # ---- outcomes -------------------------------------------------------------------------------

    def _acked(self, items: list[Item]) -> None:
        for item in items:
            if item.obj >= 0:
                self._buf.acked_objects.append((item.obj, item.obj))
                self.totals["attribute_changes_sent"] += len(item.rows)
            elif item.kind == "attributes":
                self._buf.acked_attributes.extend(item.rows)
                self.totals["attribute_changes_sent"] += len(item.rows)
            else:
                self._buf.acked_events.extend(item.rows)
                self.totals["events_sent"] += len(item.rows)
            self.totals["data_points"] += len(item.rows)
            self._buf_rows += len(item.rows)
            self.done_rows += len(item.rows)
        self._maybe_flush()

    def _rejected(self, items: list[Item], reason: str, origin: str = "braze") -> None:
        for item in items:
            if item.obj >= 0:
                self._buf.rejected_objects.append((item.obj, reason))
            for row in item.rows if item.obj < 0 else ():
                if item.kind == "attributes":
                    row = AttrRow._make(row)
                self._buf.rejections.append(Rejection(row, reason, origin))
            key = "attribute_changes_rejected" if item.kind == "attributes" else "events_rejected"
            self.totals[key] += len(item.rows)
            self._buf_rows += len(item.rows)
            self.done_rows += len(item.rows)
        self._maybe_flush()

    def _local_rejections(self, rejected: list[Rejection]) -> None:
        if not rejected:
            return
        taken = rejected[:]
        del rejected[:len(taken)]
        for rej in taken:
            key = ("events_rejected" if isinstance(rej.row, EventRow)
                   else "attribute_changes_rejected")
            self.totals[key] += 1
        self._buf.rejections.extend(taken)
        self._buf_rows += len(taken)
        self.done_rows += len(taken)
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if self._buf_rows >= self.s.commit_max_rows:
            self._flush_now.set()

    # ---- sending --------------------------------------------------------------------------------

    def _acked_staged(self, batch: StagedBatch) -> None:
        self._buf.acked_objects.append((batch.lo, batch.hi))
        n = batch.data_points
        self.totals["attribute_changes_sent"] += n
        self.totals["data_points"] += n
        self._buf_rows += n
        self.done_rows += n
        self._maybe_flush()

    async def _expand(self, batch: Batch | StagedBatch) -> Batch:
        """The objects of a staged request as Items (per-object outcomes, 400 splits)."""
        if isinstance(batch, Batch):
            return batch
        assert self.wh.staged is not None
        items = await asyncio.get_running_loop().run_in_executor(
            None, self.wh.staged.items_between, batch.lo, batch.hi)
        return Batch(items, [])

    async def _deliver(self, batch: Batch | StagedBatch) -> None:
        assert self.client is not None
        if self.stopping and (self.fatal or self.interrupted or self.recording_failed):
            self.pending_left += batch.data_points
            return
        try:
            resp = await self.client.track(batch.body(), has_events=bool(batch.events))
        except BrazeBadRequestError as exc:
            await self._on_bad_request(await self._expand(batch), exc)
            return
        except BrazeOutcomeUnknownError:
            batch = await self._expand(batch)
            # skip policy: the events are recorded 'unknown' and never re-sent.
            self._buf.unknown_events.extend(r for i in batch.events for r in i.rows)
            self.done_rows += len(batch.events)
            if batch.attributes:
                await self._deliver(Batch(batch.attributes, []))
            return
        except BrazeRetriableError as exc:
            left = batch.data_points
            self.pending_left += left
            log.warning("left %d row(s) pending for the next run: %s", left, exc)
            return
        except BrazeFatalError as exc:
            if self.fatal is None:
                self.fatal = exc
            self.stopping = True
            self.pending_left += batch.data_points
            return
        bad: dict[tuple[str, int], str] = {}
        for err in resp.errors:
            arr, idx = err.get("input_array"), err.get("index")
            if arr in ("attributes", "events") and isinstance(idx, int):
                bad[(arr, idx)] = str(err.get("type") or "rejected by Braze")
        if not bad:
            if isinstance(batch, StagedBatch):
                self._acked_staged(batch)
            else:
                self._acked(batch.attributes + batch.events)
            return
        batch = await self._expand(batch)
        ok: list[Item] = []
        for arr, items in (("attributes", batch.attributes), ("events", batch.events)):
            for idx, item in enumerate(items):
                reason = bad.get((arr, idx))
                if reason is None:
                    ok.append(item)
                else:
                    self._rejected([item], reason)
        self._acked(ok)

    async def _on_bad_request(self, batch: Batch, exc: BrazeBadRequestError) -> None:
        """A 400 for the whole request: use Braze's per-object errors, else split in halves."""
        named: dict[tuple[str, int], str] = {}
        for err in exc.errors:
            arr, idx = err.get("input_array"), err.get("index")
            if arr in ("attributes", "events") and isinstance(idx, int):
                named[(arr, idx)] = str(err.get("type") or exc)
        if named:
            keep_a = [i for n, i in enumerate(batch.attributes) if ("attributes", n) not in named]
            keep_e = [i for n, i in enumerate(batch.events) if ("events", n) not in named]
            for (arr, idx), reason in named.items():
                items = batch.attributes if arr == "attributes" else batch.events
                if idx < len(items):
                    self._rejected([items[idx]], reason)
            if keep_a or keep_e:
                await self._deliver(Batch(keep_a, keep_e))
            return
        if batch.objects <= 1:
            self._rejected(batch.attributes + batch.events, f"HTTP 400: {exc}")
            return
        left, right = batch.split()
        log.info("HTTP 400 for a %d-object request (%s): splitting it", batch.objects, exc)
        await self._deliver(left)
        await self._deliver(right)

    async def _sender(self, queue: asyncio.Queue[Batch | StagedBatch | None]) -> None:
        while True:
            batch = await queue.get()
            if batch is None:
                return
            await self._deliver(batch)

    # ---- recording ------------------------------------------------------------------------------

    def _sync_totals(self) -> None:
        assert self.client is not None
        st = self.client.stats
        self.totals["requests"] = st.requests
        self.totals["retries"] = st.retries
        self.totals["rate_limited"] = st.rate_limited
        self.totals["events_outcome_unknown"] = st.events_outcome_unknown

    async def _flush(self, run_id: str, pool: ThreadPoolExecutor) -> None:
        self._sync_totals()
        buf, self._buf, self._buf_rows = self._buf, Outcomes([], [], [], []), 0
        self._flush_now.clear()
        totals = dict(self.totals)
        t = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(pool, self.wh.record, run_id, buf,
                                                         totals)
        self.timings["record_s"] += time.perf_counter() - t
        self.timings["commits"] += 1

    async def _recorder(self, run_id: str, pool: ThreadPoolExecutor,
                        done: asyncio.Event) -> None:
        while not done.is_set():
            try:
                await asyncio.wait_for(self._flush_now.wait(), self.s.commit_interval_s)
            except TimeoutError:
                pass
            try:
                await self._flush(run_id, pool)
            except BaseException:
                self.recording_failed = self.stopping = True
                raise

    async def _reporter(self, done: asyncio.Event) -> None:
        while not done.is_set():
            try:
                await asyncio.wait_for(done.wait(), self.progress_interval_s)
            except TimeoutError:
                pass
            if self.on_progress:
                self._sync_totals()
                self.on_progress(self.progress())

    def progress(self) -> dict[str, Any]:
        return {"done_rows": self.done_rows, "total_rows": self.total_rows,
                "requests": self.totals["requests"], "retries": self.totals["retries"],
                "rate_limited": self.totals["rate_limited"]}

    # ---- the run --------------------------------------------------------------------------------

    async def run(self, run_id: str) -> RunResult:
        t0 = time.monotonic()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._interrupt)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        read_pool = ThreadPoolExecutor(1, thread_name_prefix="sync-read")
        write_pool = ThreadPoolExecutor(1, thread_name_prefix="sync-write")
        queue: asyncio.Queue[Batch | StagedBatch | None] = asyncio.Queue(
            maxsize=self.s.concurrency * 4)
        done = asyncio.Event()
        rejected: list[Rejection] = []
        error: str | None = None
        try:
            t = time.perf_counter()
            if self.fast:
                attrs = await loop.run_in_executor(read_pool, self.wh.stage_attributes, rejected)
            else:
                attrs = await loop.run_in_executor(read_pool, self.wh.count_pending_attributes)
            events = await loop.run_in_executor(read_pool, self.wh.stage_events)
            self.timings["count_s"] = time.perf_counter() - t
            self.total_rows = attrs + events
            async with TrackClient(self.s, RateBudget(
                    self.s.rate_limit, self.s.rate_window_s,
                    low_water=max(self.s.concurrency, int(self.s.rate_limit * 0.02)))) as client:
                self.client = client
                recorder = asyncio.create_task(self._recorder(run_id, write_pool, done))
                reporter = asyncio.create_task(self._reporter(done))
                senders = [asyncio.create_task(self._sender(queue))
                           for _ in range(self.s.concurrency)]
                it = self._batches(rejected)
                try:
                    while not self.stopping:
                        t = time.perf_counter()
                        chunk = await loop.run_in_executor(read_pool, self._take, it,
                                                           BATCHES_PER_READ)
                        self.timings["read_s"] += time.perf_counter() - t
                        if queue.empty():
                            self.timings["queue_empty"] += 1
                        self._local_rejections(rejected)
                        if not chunk:
                            break
                        if self._first_send is None:
                            self._first_send = time.perf_counter()
                        for batch in chunk:
                            await queue.put(batch)
                    self._local_rejections(rejected)
                finally:
                    for _ in senders:
                        await queue.put(None)
                    await asyncio.gather(*senders)
                    if self._first_send is not None:
                        self.timings["send_s"] = time.perf_counter() - self._first_send
                    done.set()
                    try:
                        await recorder
                    finally:
                        await reporter
                    await self._flush(run_id, write_pool)
                    await loop.run_in_executor(read_pool, it.close)
        except BaseException as exc:  # record what we can, then re-raise
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            read_pool.shutdown(wait=True)
            write_pool.shutdown(wait=True)
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.remove_signal_handler(sig)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass
            if error is not None:
                self._finish(run_id, "failed", error, time.monotonic() - t0)
        if self.interrupted and not self.fatal:
            remaining = max(0, self.total_rows - self.done_rows)
            self.pending_left = max(self.pending_left, remaining)
        status, error = self._status()
        return self._finish(run_id, status, error, time.monotonic() - t0)

    def _status(self) -> tuple[str, str | None]:
        if self.fatal is not None:
            return "failed", str(self.fatal)
        if self.interrupted:
            return "interrupted", "interrupted by a signal"
        if self.pending_left or self.totals["attribute_changes_rejected"] or \
                self.totals["events_rejected"]:
            return "partial", None
        return "success", None

    def _finish(self, run_id: str, status: str, error: str | None, seconds: float) -> RunResult:
        if self.client is not None:
            self._sync_totals()
        result = RunResult(run_id, status, dict(self.totals), self.pending_left, seconds, error,
                           {"timings": {k: round(v, 3) for k, v in self.timings.items()}})
        self.wh.finish_run(run_id, status, self.totals, error, result.summary())
        return result

    def _interrupt(self) -> None:
        if not self.interrupted:
            log.warning("interrupted: finishing the requests in flight, recording, stopping")
        self.interrupted = True
        self.stopping = True
