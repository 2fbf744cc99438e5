"""The alternatives' workload: a full re-send of every row of one day's extracts.

What Braze's Cloud Data Ingestion bills for a table rewritten daily, and what a hand-written
braze-client loop sends: every person's whole row, each run, whether it changed or not. A
person's row is one attributes object with their identifier (external_id when present, else
braze_id), one boolean per audience split listed in the day's membership manifest (true for a
member, false otherwise, so exits are sent) and every custom attribute of the day's snapshot
(null for an empty cell). Each costs one data point: every split and every attribute, for every
person, every day. The day's events are sent once each (one data point each), as by the sync.

write_payloads() writes those objects as /users/track request bodies, 75 objects per body
(Braze's combined limit), one JSON body per line, and returns the totals.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

MAX_OBJECTS = 75


@dataclass
class Workload:
    people: int
    splits: int
    attributes: int
    events: int
    attribute_objects: int
    data_points: int
    requests: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _files(folder: Path) -> str:
    parquet = list(folder.glob("*.parquet"))
    if parquet:
        return f"read_parquet('{folder}/*.parquet')"
    return f"read_csv('{folder}/*.csv', all_varchar = true, header = true)"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def write_payloads(
    landing: Path, delivery_id: str, events_file: Path | None, out: Path
) -> Workload:
    """Write the full re-send of delivery `delivery_id` (+ events_file) to `out` (JSONL)."""
    mdir = landing / "membership" / delivery_id
    adir = landing / "attributes" / delivery_id
    manifest = json.loads((mdir / "manifest.json").read_text(encoding="utf-8"))
    amanifest = json.loads((adir / "manifest.json").read_text(encoding="utf-8"))
    splits = [f"AIQ_{a['audience_id']}_{a['split_id']}" for a in manifest["audiences"]]
    attrs = list(amanifest["attributes"])
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    con.execute(f"""
        create temp table members as
        select distinct coalesce(external_id, braze_id) as person_key,
               'AIQ_' || audience_id || '_' || split_id as attr
        from {_files(mdir)}""")
    con.execute(f"create temp table people as select * from {_files(adir)}")
    pairs = [
        f"{_sql_str(s)}, coalesce(list_contains(m.attrs, {_sql_str(s)}), false)" for s in splits
    ]
    for name, kind in amanifest["attributes"].items():
        col = f'p."{name}"'
        value = {
            "number": f"try_cast({col} as double)",
            "boolean": f"try_cast({col} as boolean)",
        }.get(kind, f"cast({col} as varchar)")
        pairs.append(f"{_sql_str(name)}, {value}")
    body = f"json_object({', '.join(pairs)})" if pairs else "'{}'::json"
    objects_sql = f"""
        select
            '{{' || case when p.external_id is not null
                then '"external_id":' || to_json(p.external_id)
                else '"braze_id":' || to_json(p.braze_id) end
            || case when length({body}::varchar) > 2 then ',' || substr({body}::varchar, 2)
                else '}}' end as obj,
            'attributes' as kind
        from people p
        left join (select person_key, list(attr) as attrs from members group by all) m
            on m.person_key = coalesce(p.external_id, p.braze_id)
    """
    events_sql = "select null::varchar as obj, 'events' as kind where false"
    if events_file is not None:
        events_sql = _events_sql(con, events_file)
    rows = con.execute(f"""
        with objs as (
            select obj, kind, row_number() over () - 1 as n
            from (select * from ({objects_sql}) union all select * from ({events_sql}))
        )
        select n // {MAX_OBJECTS} as batch, kind, string_agg(obj, ',' order by n)
        from objs group by all order by batch, kind
    """)
    requests = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        current: int | None = None
        parts: dict[str, str] = {}
        while chunk := rows.fetchmany(10_000):
            for batch, kind, joined in chunk:
                if current is not None and batch != current:
                    fh.write(_body(parts))
                    requests += 1
                    parts = {}
                current = batch
                parts[kind] = joined
        if parts:
            fh.write(_body(parts))
            requests += 1
    people = con.execute("select count(*) from people").fetchall()[0][0]
    events = 0
    if events_file is not None:
        events = con.execute(f"select count(*) from ({events_sql})").fetchall()[0][0]
    con.close()
    return Workload(
        people=people,
        splits=len(splits),
        attributes=len(attrs),
        events=events,
        attribute_objects=people,
        data_points=people * (len(splits) + len(attrs)) + events,
        requests=requests,
    )


def _events_sql(con: duckdb.DuckDBPyConnection, events_file: Path) -> str:
    """Braze event objects of one events file; extra fields become properties."""
    reader = {
        ".parquet": f"read_parquet('{events_file}')",
        ".jsonl": f"read_json('{events_file}', format = 'newline_delimited')",
    }.get(events_file.suffix, f"read_csv('{events_file}', all_varchar = true, header = true)")
    described = con.execute(f"describe select * from {reader}").fetchall()
    columns = [r[0] for r in described]
    time_type = dict((r[0], r[1]) for r in described)["event_time"]
    event_time = (
        "strftime(event_time, '%Y-%m-%dT%H:%M:%SZ')" if "TIMESTAMP" in time_type else "event_time"
    )
    fixed = {"event_id", "event_name", "external_id", "braze_id", "event_time", "properties"}
    extra = [c for c in columns if c not in fixed]
    props = "json_object()" if "properties" not in columns else "to_json(properties)"
    if extra:
        pairs = ", ".join(f'{_sql_str(c)}, "{c}"' for c in extra)
        props = f"json_merge_patch({props}, json_object({pairs}))"
    return f"""
        select
            '{{' || case when external_id is not null
                then '"external_id":' || to_json(external_id)
                else '"braze_id":' || to_json(braze_id) end
            || ',' || substr(json_object(
                'name', event_name, 'time', {event_time}, 'properties', {props}
            )::varchar, 2) as obj,
            'events' as kind
        from {reader}
    """


def _body(parts: dict[str, str]) -> str:
    inner = ",".join(f'"{kind}":[{joined}]' for kind, joined in sorted(parts.items()))
    return "{" + inner + "}\n"
