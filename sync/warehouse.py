"""All DuckDB access of the sync: read pending changes in chunks, record outcomes, the run log.

The change tables (dbt exports) are read anti-joined against the state tables, so what was
already acknowledged (ledger value equal, event_id delivered) or already rejected for the same
source is never read again. Outcomes are written in group commits: one transaction per group.
"""

from __future__ import annotations

import errno
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from sync.fastpath import STAGE, StagedAttributes, attach_stage, drop_stage
from sync.payloads import AttrRow, EventRow, Item, Rejection

CHANGE_TABLES = ("braze_attribute_changes", "braze_event_changes")
STATE_TABLES = ("sync_attribute_ledger", "sync_delivered_events", "sync_rejected_rows",
                "sync_runs", "sync_watermarks")

PENDING_ATTRIBUTES = """
select c.braze_key_type, c.braze_key, c.attribute_name, c.value_json, c.source_stream,
       c.source_id, l.braze_key is not null as in_ledger
from braze_attribute_changes as c
left join sync_attribute_ledger as l
  on l.braze_key_type = c.braze_key_type and l.braze_key = c.braze_key
 and l.attribute_name = c.attribute_name
where (l.braze_key is null or l.value_json is distinct from c.value_json)
  and not exists (
    select 1 from sync_rejected_rows as r
    where r.stream = c.source_stream and r.braze_key_type = c.braze_key_type
      and r.braze_key = c.braze_key and r.attribute_name = c.attribute_name
      and r.source_id is not distinct from c.source_id)
"""

PENDING_EVENTS = """
select e.event_id, e.braze_key_type, e.braze_key, e.event_name, e.event_time,
       e.properties_json, e.source_id
from braze_event_changes as e
where not exists (select 1 from sync_delivered_events as d where d.event_id = e.event_id)
  and not exists (select 1 from sync_rejected_rows as r
                  where r.stream = 'events' and r.event_id = e.event_id)
"""

# DuckDB checkpoints when the WAL passes 16 MB by default, inside whichever group commit crosses
# it: ~0.5 us per change of the recorder's CPU while sending. A run's rows (~100 bytes per
# change) stay in the WAL up to this size and are checkpointed at close (or by the next open
# after a kill): the same durability, the work moved out of the sending window. What the WAL
# holds is also held in memory (unlike cached table blocks it cannot be evicted), so the
# threshold is at most a quarter of the sync's DuckDB memory limit.
CHECKPOINT_THRESHOLD_BYTES = 256 * 1024 * 1024
MIN_CHECKPOINT_THRESHOLD_BYTES = 16 * 1024 * 1024

_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def memory_bytes(text: str) -> int | None:
    """Bytes of a DuckDB memory setting as DuckDB prints it ('953.6 MiB'), else None."""
    parts = text.strip().lower().replace(" ", "")
    num = parts.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = parts[len(num):] or "b"
    try:
        return int(float(num) * _UNITS[unit])
    except (ValueError, KeyError):
        return None


def checkpoint_threshold(memory_limit_bytes: int | None) -> int:
    if memory_limit_bytes is None:
        return CHECKPOINT_THRESHOLD_BYTES
    return max(MIN_CHECKPOINT_THRESHOLD_BYTES,
               min(CHECKPOINT_THRESHOLD_BYTES, memory_limit_bytes // 4))


RUN_COLUMNS = ("requests", "attribute_changes_sent", "attribute_changes_rejected", "events_sent",
               "events_rejected", "events_outcome_unknown", "data_points", "retries",
               "rate_limited")


SEP = "\x1f"  # unit separator: never inside valid JSON text, checked for everything else


def _unnest(cols: list[list[Any]], first_param: int = 1) -> tuple[str, list[Any]]:
    """A subquery of varchar columns c0, c1, ... from Python lists of equal length.

    Each column goes to DuckDB as one string joined with SEP and split in SQL (several times
    faster than a list parameter); a column holding NULLs or SEP goes as a list.
    """
    exprs: list[str] = []
    params: list[Any] = []
    for i, col in enumerate(cols):
        n = first_param + i
        joined = SEP.join(col) if col and all(type(v) is str for v in col) else None
        if joined is not None and joined.count(SEP) == len(col) - 1:
            exprs.append(f"unnest(string_split(${n}::varchar, chr(31))) as c{i}")
            params.append(joined)
        else:
            exprs.append(f"unnest(${n}::varchar[]) as c{i}")
            params.append(col)
    return "select " + ", ".join(exprs), params


class WarehouseError(Exception):
    """The warehouse cannot be used (missing file or table, locked by another writer, disk full)."""


# How DuckDB and the OS word "the disk is full" (Linux/macOS ENOSPC and EDQUOT, Windows).
_DISK_FULL_TEXT = ("no space left on device", "disk quota exceeded",
                   "not enough space on the disk")
_DISK_FULL_ERRNOS = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def disk_full_message(exc: BaseException, path: str) -> str | None:
    """A clear message when `exc` (or an exception it came from) is a full disk, else None."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen)
        if (isinstance(seen, OSError) and seen.errno in _DISK_FULL_ERRNOS) or any(
                t in text.lower() for t in _DISK_FULL_TEXT):
            detail = text.strip().splitlines()[0][:300] if text.strip() else type(seen).__name__
            return (f"the disk holding the warehouse {path} is full ({detail}). Only what Braze "
                    f"acknowledged and was committed before is recorded; free or add space (the "
                    f"warehouse needs room for its .wal and the sync's {Path(path).name}"
                    f".sync-stage scratch file), then re-run: what is not recorded is sent again")
        seen = seen.__cause__ or seen.__context__
    return None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Outcomes:
    """What one group commit records."""

    acked_attributes: list[AttrRow]
    acked_events: list[EventRow]
    unknown_events: list[EventRow]
    rejections: list[Rejection]
    # Staged attribute objects (sync/fastpath.py): acknowledged, and refused with Braze's reason.
    acked_objects: list[tuple[int, int]] = field(default_factory=list)  # ranges lo..hi
    rejected_objects: list[tuple[int, str]] = field(default_factory=list)


class Warehouse:
    def __init__(self, path: str, *, read_only: bool = False, memory_limit: str = "1GB",
                 threads: int = 2) -> None:
        self.path = path
        try:
            self.con = duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise WarehouseError(
                    f"the warehouse {path} is in use by another process (dbt build or another "
                    f"sync); DuckDB allows one writer at a time") from None
            full = disk_full_message(exc, path)
            raise WarehouseError(full or f"cannot open the warehouse {path}: {text}") from None
        self.con.execute(f"set memory_limit = '{memory_limit}'")
        self.con.execute(f"set threads = {int(threads)}")
        self.con.execute("set preserve_insertion_order = false")
        if not read_only:
            limit = self.con.execute("select current_setting('memory_limit')").fetchone()
            threshold = checkpoint_threshold(memory_bytes(str(limit[0])) if limit else None)
            self.con.execute(f"set checkpoint_threshold = '{threshold}B'")
        self.staged: StagedAttributes | None = None
        self._stage_path: str | None = None
        self._staged_events: int | None = None

    def close(self) -> None:
        if self._stage_path is not None:
            try:
                drop_stage(self.con, self._stage_path)
            except duckdb.Error:
                pass
        self.con.close()

    def _attach_stage(self) -> str:
        """The run's scratch database `sync_stage`, attached once (see sync/fastpath.py)."""
        if self._stage_path is None:
            stage = ":memory:" if self.path == ":memory:" else f"{self.path}.sync-stage"
            if stage != ":memory:":
                for suffix in ("", ".wal"):  # left by a killed run: a scratch file, never state
                    Path(stage + suffix).unlink(missing_ok=True)
            attach_stage(self.con, stage)
            self._stage_path = stage
        return self._stage_path

    # ---- checks ---------------------------------------------------------------------------------

    def missing_tables(self, names: Sequence[str]) -> list[str]:
        rows = self.con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
        present = {r[0] for r in rows}
        return [n for n in names if n not in present]

    def require_tables(self) -> None:
        missing = self.missing_tables(CHANGE_TABLES + STATE_TABLES)
        if missing:
            raise WarehouseError(
                f"the warehouse {self.path} lacks table(s) {', '.join(missing)}: run "
                f"`dbt build --profiles-dir profiles` first")

    # ---- reading --------------------------------------------------------------------------------

    def count_pending(self) -> tuple[int, int]:
        events = self.con.execute(f"select count(*) from ({PENDING_EVENTS})").fetchone()
        return self.count_pending_attributes(), int(events[0] if events else 0)

    def count_pending_attributes(self) -> int:
        row = self.con.execute(f"select count(*) from ({PENDING_ATTRIBUTES})").fetchone()
        return int(row[0]) if row else 0

    def stage_attributes(self, rejected: list[Rejection]) -> int:
        """Stage the pending attribute changes (sync/fastpath.py); returns how many."""
        self._attach_stage()
        self.staged = StagedAttributes(self.con, PENDING_ATTRIBUTES)
        return self.staged.stage(rejected)

    def stage_events(self) -> int:
        """Stage the pending events in send order, numbered; returns how many.

        Done once, before sending, so that the anti-join against every delivered event and the
        sort (both able to spill to disk) never share the memory limit with the reads and group
        commits of the run; iter_pending_events then reads small ranges of numbers.
        """
        self._attach_stage()
        self.con.execute(f"drop table if exists {STAGE}.events")
        self.con.execute(f"""
            create table {STAGE}.events as
            select row_number() over (order by e.event_time, e.event_id) as seq, e.*
            from ({PENDING_EVENTS}) as e
            order by seq""")  # stored in send order: range reads prune by min/max
        row = self.con.execute(f"select count(*) from {STAGE}.events").fetchone()
        self._staged_events = int(row[0]) if row else 0
        return self._staged_events

    def iter_staged_objects(self, chunk_rows: int) -> Iterator[list[Item]]:
        assert self.staged is not None
        return self.staged.items(chunk_rows)

    def iter_pending_attributes(self, chunk_rows: int) -> Iterator[list[AttrRow]]:
        """Pending attribute changes ordered by person, `chunk_rows` at a time."""
        cur = self.con.cursor()
        try:
            cur.execute(PENDING_ATTRIBUTES
                        + " order by c.braze_key_type, c.braze_key, c.attribute_name")
            while True:
                rows = cur.fetchmany(chunk_rows)
                if not rows:
                    return
                yield rows  # plain tuples in AttrRow's column order (fast)
        finally:
            cur.close()

    def iter_pending_events(self, chunk_rows: int) -> Iterator[list[EventRow]]:
        """Pending events in (event_time, event_id) order, `chunk_rows` at a time."""
        if self._staged_events is not None:
            yield from self._iter_staged_events(max(1, chunk_rows))
            return
        cur = self.con.cursor()
        try:
            cur.execute(PENDING_EVENTS + " order by e.event_time, e.event_id")
            while True:
                rows = cur.fetchmany(chunk_rows)
                if not rows:
                    return
                yield [EventRow._make(r) for r in rows]
        finally:
            cur.close()

    def _iter_staged_events(self, chunk_rows: int) -> Iterator[list[EventRow]]:
        cur = self.con.cursor()
        try:
            for start in range(1, (self._staged_events or 0) + 1, chunk_rows):
                cur.execute(f"select {', '.join(EventRow._fields)} from {STAGE}.events "
                            f"where seq between $1 and $2 order by seq",
                            [start, start + chunk_rows - 1])
                yield [EventRow._make(r) for r in cur.fetchall()]
        finally:
            cur.close()

    # ---- recording ------------------------------------------------------------------------------

    def record(self, run_id: str, out: Outcomes, totals: dict[str, int] | None = None) -> None:
        """One group commit: ledger upserts, delivered events, rejections, watermarks, run row."""
        con = self.con
        now = _now()
        con.execute("begin transaction")
        try:
            attrs = out.acked_attributes
            if attrs:
                existing = [r for r in attrs if r[6]]
                if existing:
                    sql, params = _unnest([[r[0] for r in existing], [r[1] for r in existing],
                                           [r[2] for r in existing]])
                    con.execute(
                        f"""delete from sync_attribute_ledger as l using ({sql}) as b
                            where l.braze_key_type = b.c0 and l.braze_key = b.c1
                              and l.attribute_name = b.c2""", params)
                sql, params = _unnest([[r[0] for r in attrs], [r[1] for r in attrs],
                                       [r[2] for r in attrs], [r[3] for r in attrs],
                                       [r[4] for r in attrs]])
                con.execute(f"insert into sync_attribute_ledger select c0, c1, c2, c3, c4, $6, $7 "
                            f"from ({sql})", params + [run_id, now])
            events = [(e, "acknowledged") for e in out.acked_events] + [
                (e, "unknown") for e in out.unknown_events]
            if events:
                sql, params = _unnest([
                    [e.event_id for e, _ in events], [e.braze_key_type for e, _ in events],
                    [e.braze_key for e, _ in events], [e.event_name for e, _ in events],
                    [e.event_time.isoformat() if e.event_time else None for e, _ in events],
                    [o for _, o in events]])
                con.execute(f"insert into sync_delivered_events select c0, c1, c2, c3, "
                            f"cast(c4 as timestamp), c5, $7, $8 from ({sql})",
                            params + [run_id, now])
            if out.rejections:
                self._insert_rejections(run_id, out.rejections, now)
            marks: dict[tuple[str, str], str] = {}
            if out.acked_objects or out.rejected_objects:
                assert self.staged is not None
                marks = self.staged.record(run_id, now, out.acked_objects,
                                           out.rejected_objects)
            self._advance_watermarks(run_id, out, now, marks)
            if totals:
                sets = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(RUN_COLUMNS))
                con.execute(f"update sync_runs set {sets} where run_id = $1",
                            [run_id] + [int(totals.get(c, 0)) for c in RUN_COLUMNS])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise

    def _insert_rejections(self, run_id: str, rejections: list[Rejection], now: datetime) -> None:
        cols: list[list[Any]] = [[] for _ in range(9)]
        for rej in rejections:
            row = rej.row
            if isinstance(row, EventRow):
                vals = ("events", row.source_id, row.braze_key_type, row.braze_key, None,
                        row.event_id, row.event_name, rej.reason, rej.origin)
            else:  # attribute rows may be plain tuples in AttrRow's column order
                vals = (row[4], row[5], row[0], row[1], row[2], None, None, rej.reason,
                        rej.origin)
            for col, v in zip(cols, vals, strict=True):
                col.append(v)
        self.con.execute(
            """insert into sync_rejected_rows
               select unnest($1::varchar[]), unnest($2::varchar[]), unnest($3::varchar[]),
                      unnest($4::varchar[]), unnest($5::varchar[]), unnest($6::varchar[]),
                      unnest($7::varchar[]), unnest($8::varchar[]), unnest($9::varchar[]),
                      $10, $11""",
            [*cols, run_id, now])

    def _advance_watermarks(self, run_id: str, out: Outcomes, now: datetime,
                            staged_marks: dict[tuple[str, str], str] | None = None) -> None:
        """Per (stream, source): the last acknowledged key (attributes) or event time (events).

        Informational: what is pending is decided by the anti-joins, never by a watermark.
        """
        marks: dict[tuple[str, str], str] = dict(staged_marks or {})
        # One candidate per source: the greatest key among this group's rows.
        by_source: dict[tuple[str, str], list[AttrRow]] = {}
        for r in out.acked_attributes:
            by_source.setdefault((r[4], r[5] or ""), []).append(r)
        for key, rows in by_source.items():
            top = max(rows, key=lambda r: (r[0], r[1]))
            mark = f"{top[0]}:{top[1]}"
            if mark > marks.get(key, ""):
                marks[key] = mark
        for e in out.acked_events + out.unknown_events:
            key = ("events", e.source_id or "")
            value = e.event_time.isoformat() if e.event_time else ""
            if value > marks.get(key, ""):
                marks[key] = value
        if not marks:
            return
        streams = [k[0] for k in marks]
        scopes = [k[1] for k in marks]
        values = list(marks.values())
        self.con.execute(
            """create temp table if not exists _wm(stream varchar, scope varchar, mark varchar)""")
        self.con.execute("delete from _wm")
        self.con.execute("insert into _wm select unnest($1), unnest($2), unnest($3)",
                         [streams, scopes, values])
        self.con.execute(
            """insert into _wm select w.stream, w.scope, w.watermark from sync_watermarks as w
               join _wm as n on n.stream = w.stream and n.scope = w.scope
               where w.watermark > n.mark""")
        self.con.execute(
            """delete from sync_watermarks as w using _wm as n
               where n.stream = w.stream and n.scope = w.scope""")
        self.con.execute(
            """insert into sync_watermarks
               select stream, scope, max(mark), $1, $2 from _wm group by stream, scope""",
            [run_id, now])

    # ---- run log --------------------------------------------------------------------------------

    def start_run(self, command: str) -> str:
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
        now = _now()
        # DuckDB allows one writer, so a run still 'running' was killed: say so.
        self.con.execute(
            """update sync_runs set status = 'interrupted',
                   error_message = coalesce(error_message, 'process ended without finishing')
               where status = 'running'""")
        self.con.execute(
            """insert into sync_runs (run_id, command, started_at, status, requests,
                   attribute_changes_sent, attribute_changes_rejected, events_sent,
                   events_rejected, events_outcome_unknown, data_points, retries, rate_limited)
               values ($1, $2, $3, 'running', 0, 0, 0, 0, 0, 0, 0, 0, 0)""",
            [run_id, command, now])
        return run_id

    def finish_run(self, run_id: str, status: str, totals: dict[str, int],
                   error_message: str | None, summary: dict[str, Any]) -> None:
        sets = ", ".join(f"{c} = ${i + 6}" for i, c in enumerate(RUN_COLUMNS))
        self.con.execute(
            f"""update sync_runs set finished_at = $2, status = $3, error_message = $4,
                    summary_json = $5, {sets}
                where run_id = $1""",
            [run_id, _now(), status, error_message, json.dumps(summary, default=str)]
            + [int(totals.get(c, 0)) for c in RUN_COLUMNS])

    # ---- status ---------------------------------------------------------------------------------

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        cur = self.con.execute(
            """select run_id, command, started_at, finished_at, status, requests,
                      attribute_changes_sent, attribute_changes_rejected, events_sent,
                      events_rejected, events_outcome_unknown, data_points, retries,
                      rate_limited, error_message
               from sync_runs order by started_at desc limit $1""", [limit])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def rejected_summary(self, limit: int = 20) -> list[dict[str, Any]]:
        cur = self.con.execute(
            """select stream, origin, reason, count(*) as rows, max(rejected_at) as last_at
               from sync_rejected_rows group by all order by rows desc limit $1""", [limit])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def recent_rejections(self, limit: int = 10) -> list[dict[str, Any]]:
        cur = self.con.execute(
            """select rejected_at, stream, source_id, braze_key_type, braze_key,
                      coalesce(attribute_name, event_name) as name, event_id, reason, origin
               from sync_rejected_rows order by rejected_at desc limit $1""", [limit])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def rejected_count(self) -> int:
        row = self.con.execute("select count(*) from sync_rejected_rows").fetchone()
        return int(row[0]) if row else 0
