"""Set-based attribute path: DuckDB stages, validates, builds and records; Python packs objects.

The pending attribute changes are staged once per run in a scratch DuckDB database attached
to the warehouse connection: `sync_stage.rows` in `<warehouse>.sync-stage` (a file, so that
10 million changes stay within DuckDB's memory limit; deleted when the warehouse is closed,
replaced by the next run if a kill left it). One row per change, numbered by object = person
in (braze_key_type, braze_key) order. Each row gets a cheap SQL pre-check of the rules in
sync/payloads.py; only the rows that fail it are fetched into Python and checked exactly
(`payloads.attribute_problem`): the truly invalid ones become local rejections, the others are
marked valid. DuckDB then builds each person's object JSON text (string_agg over the already-JSON
`value_json`) and each request body, so Python handles one string per request.

The same scratch database holds the run's pending events (`sync_stage.events`, staged by
sync/warehouse.py), numbered in send order.

Recording is by object number: a group commit inserts the ledger rows of the acknowledged
object ranges, and the rejected rows of the objects Braze refused, with one INSERT ... SELECT
each.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from sync import payloads
from sync.config import MAX_BODY_BYTES
from sync.payloads import AttrRow, Item, Rejection

STAGE = "sync_stage"


@dataclass(slots=True)
class StagedBatch:
    """One request of objects lo..hi (all attribute objects), its body built by DuckDB.

    The runner records it by range when Braze acknowledges it whole; for anything else (per-object
    errors, 400) it loads the objects as Items (StagedAttributes.items_between).
    """

    lo: int
    hi: int
    objects: int
    data_points: int  # changes in the request
    data: bytes
    events: tuple[()] = ()

    def body(self) -> bytes:
        return self.data

_RESERVED = ", ".join(f"'{n}'" for n in sorted(payloads.RESERVED_ATTRIBUTES))
# A JSON string body needing no escaping: no quote, backslash or control character.
_PLAIN = r"[^\"\\\x{00}-\x{1f}]"
_KEY_PLAIN = f"regexp_full_match(c.braze_key, '{_PLAIN}+')"
_NAME_PLAIN = f"regexp_full_match(c.attribute_name, '{_PLAIN}+')"

# True only when payloads.attribute_problem would surely return None; false sends the row to
# Python for the exact check (so false never rejects by itself).
FAST_OK = f"""coalesce(
    c.braze_key_type in ('external_id', 'braze_id') and c.braze_key <> ''
    and (c.braze_key_type <> 'external_id'
         or strlen(c.braze_key) <= {payloads.MAX_EXTERNAL_ID_BYTES})
    and {_KEY_PLAIN}
    and length(c.attribute_name) between 1 and {payloads.MAX_NAME_CHARS}
    and not starts_with(c.attribute_name, '$')
    and c.attribute_name not in ({_RESERVED})
    and {_NAME_PLAIN}
    and (c.value_json in ('true', 'false', 'null')
         or regexp_full_match(c.value_json, '-?(0|[1-9][0-9]{{0,14}})(\\.[0-9]{{1,15}})?')
         or regexp_full_match(c.value_json, '"{_PLAIN}{{0,{payloads.MAX_STRING_CHARS}}}"')),
    false)"""


def _json_text(col: str) -> str:
    """SQL for the JSON text of a varchar column: quoted as is on rows that passed FAST_OK
    (their key and name are plain), else to_json."""
    return f"case when fast then '\"' || {col} || '\"' else to_json({col})::varchar end"


class StagedAttributes:
    """The attribute side of one run: stage, validate, read objects, record by object."""

    def __init__(self, con: duckdb.DuckDBPyConnection, pending_sql: str) -> None:
        """`con` has the scratch database attached as `sync_stage` (attach_stage)."""
        self.con = con
        self.pending_sql = pending_sql
        self.max_obj = 0
        self.in_ledger = True  # whether any staged row replaces a ledger row (set by stage)

    def stage(self, rejected: list[Rejection]) -> int:
        """Stage every pending change; append local rejections. Returns the pending count."""
        con = self.con
        con.execute(f"drop table if exists {STAGE}.rows")
        con.execute(f"""
            create table {STAGE}.rows as
            select *, fast as ok from (
                select dense_rank() over (order by c.braze_key_type, c.braze_key) as obj,
                       c.braze_key_type, c.braze_key, c.attribute_name, c.value_json,
                       c.source_stream, c.source_id, c.in_ledger, {FAST_OK} as fast
                from ({self.pending_sql}) as c)
            order by obj""")  # stored in object order: range reads prune by min/max
        total = con.execute(f"select count(*), max(obj), bool_or(in_ledger) "
                            f"from {STAGE}.rows").fetchone()
        self.max_obj = int(total[1] or 0) if total else 0
        self.in_ledger = bool(total[2]) if total else False
        slow = con.execute(
            f"""select rowid, braze_key_type, braze_key, attribute_name, value_json,
                       source_stream, source_id, in_ledger
                from {STAGE}.rows where not ok order by obj, attribute_name""").fetchall()
        valid: list[int] = []
        for r in slow:
            row = AttrRow._make(r[1:])
            problem = payloads.attribute_problem(row)
            if problem:
                rejected.append(Rejection(row, problem, "sync_validation"))
            else:
                valid.append(r[0])
        if valid:
            con.execute(f"update {STAGE}.rows set ok = true "
                        f"where rowid in (select unnest($1::bigint[]))", [valid])
        return int(total[0]) if total else 0

    def _objects_sql(self, where: str = "") -> str:
        return f"""
            select obj,
                   '{{"' || any_value(braze_key_type) || '":'
                   || any_value({_json_text('braze_key')})
                   || string_agg(',' || {_json_text('attribute_name')} || ':' || value_json,
                                 '') || '}}' as text,
                   count(*) as n
            from {STAGE}.rows where ok {where} group by obj"""

    def items(self, chunk_rows: int, lo: int | None = None,
              hi: int | None = None) -> Iterator[list[Item]]:
        """Objects in person order (all, or numbers lo..hi), `chunk_rows` at a time, as Items.

        Item.rows is range(n) (only its length is used: n changes in the object); Item.obj is the
        object number that recording uses.
        """
        if lo is None or hi is None:
            # Whole run: one object range per query, so DuckDB never aggregates everything.
            for start in range(1, self.max_obj + 1, max(1, chunk_rows)):
                yield from self.items(chunk_rows, start, start + max(1, chunk_rows) - 1)
            return
        cur = self.con.cursor()
        try:
            cur.execute(self._objects_sql("and obj between $1 and $2") + " order by obj",
                        [lo, hi])
            while True:
                rows = cur.fetchmany(chunk_rows)
                if not rows:
                    return
                yield [Item("attributes", text, range(n), -1, obj) for obj, text, n in rows]
        finally:
            cur.close()

    def items_between(self, lo: int, hi: int) -> list[Item]:
        return [i for chunk in self.items(10_000, lo, hi) for i in chunk]

    def batches(self, max_objects: int, chunk_rows: int
                ) -> Iterator[StagedBatch | tuple[bool, list[Item]]]:
        """Whole requests built by DuckDB: `max_objects` consecutive objects each.

        Yields StagedBatch for each full group under the size limit, and (is_last, items) for
        the last group and any group over the size limit, which the caller packs with the
        Batcher (events fill the rest of the last one).
        """
        held: tuple[int, int, int, int, int, str] | None = None
        step = max(1, chunk_rows // max_objects) * max_objects  # whole groups per query
        cur = self.con.cursor()
        try:
            # One object range per query (groups never straddle two), so DuckDB aggregates
            # `step` objects at a time, not the whole run.
            for start in range(1, self.max_obj + 1, step):
                cur.execute(f"""
                    select (obj - 1) // {int(max_objects)} as b, min(obj), max(obj), count(*),
                           sum(n)::bigint,
                           '{{"attributes":[' || string_agg(text, ',' order by obj) || ']}}'
                    from ({self._objects_sql("and obj between $1 and $2")})
                    group by b order by b""", [start, start + step - 1])
                for row in cur.fetchall():
                    if held is not None:
                        yield self._one(held, max_objects)
                    held = row
        finally:
            cur.close()
        if held is not None:
            yield True, self.items_between(held[1], held[2])

    def _one(self, row: tuple[int, int, int, int, int, str], max_objects: int
             ) -> StagedBatch | tuple[bool, list[Item]]:
        _, lo, hi, objects, changes, body = row
        data = body.encode("utf-8")
        if len(data) + 64 > MAX_BODY_BYTES or objects > max_objects:
            return False, self.items_between(lo, hi)
        return StagedBatch(lo, hi, objects, changes, data)

    # ---- recording (inside the caller's transaction) ---------------------------------------

    def record(self, run_id: str, now: datetime, acked: list[tuple[int, int]],
               rejected: list[tuple[int, str]]) -> dict[tuple[str, str], str]:
        """Ledger rows for acked objects (ranges lo..hi), rejected rows for refused objects.

        Runs inside the caller's transaction; returns the watermark candidates per source.
        """
        con = self.con
        marks: dict[tuple[str, str], str] = {}
        ranges = merge_ranges(acked)
        if ranges:
            # Object numbers are ints: the ranges go into the SQL text, so DuckDB prunes by
            # the row groups' min/max instead of joining against the whole staged table.
            where = " or ".join(f"r.obj between {int(lo)} and {int(hi)}" for lo, hi in ranges)
            sel = (f"from {STAGE}.rows as r where r.ok and r.obj between {int(ranges[0][0])} "
                   f"and {int(ranges[-1][1])} and ({where})")
            if self.in_ledger:  # else no acked row replaces a ledger row: skip the scan
                con.execute(f"""delete from sync_attribute_ledger as l using (
                                   select braze_key_type, braze_key, attribute_name {sel}
                                   and r.in_ledger) as b
                               where l.braze_key_type = b.braze_key_type
                                 and l.braze_key = b.braze_key
                                 and l.attribute_name = b.attribute_name""")
            con.execute(f"""insert into sync_attribute_ledger
                            select braze_key_type, braze_key, attribute_name, value_json,
                                   source_stream, $1, $2 {sel}""", [run_id, now])
            for stream, scope, key_type, key in con.execute(
                    f"""select source_stream, coalesce(source_id, ''),
                               arg_max(braze_key_type, obj), arg_max(braze_key, obj)
                        {sel} group by all""").fetchall():
                marks[(stream, scope)] = f"{key_type}:{key}"
        if rejected:
            con.execute(f"""insert into sync_rejected_rows
                            select r.source_stream, r.source_id, r.braze_key_type, r.braze_key,
                                   r.attribute_name, null, null, b.reason, 'braze', $3, $4
                            from {STAGE}.rows as r
                            join (select unnest($1::bigint[]) as obj,
                                         unnest($2::varchar[]) as reason) as b
                              on b.obj = r.obj
                            where r.ok""",
                        [[o for o, _ in rejected], [r for _, r in rejected], run_id, now])
        return marks


def attach_stage(con: duckdb.DuckDBPyConnection, stage_path: str) -> None:
    """Attach the run's scratch database as `sync_stage` (once per connection)."""
    attached = con.execute(
        "select count(*) from duckdb_databases() where database_name = $1", [STAGE]
    ).fetchone()
    if not attached or not attached[0]:
        con.execute(f"attach '{stage_path}' as {STAGE}")


def drop_stage(con: duckdb.DuckDBPyConnection, stage_path: str) -> None:
    """Detach the scratch database and delete its file."""
    try:
        con.execute(f"detach database if exists {STAGE}")
    finally:
        if stage_path != ":memory:":
            for suffix in ("", ".wal"):
                Path(stage_path + suffix).unlink(missing_ok=True)


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, merged (lo, hi) ranges of object numbers."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
