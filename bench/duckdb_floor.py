"""The floor for `dbt build`: DuckDB alone reading the extract files and diffing, no dbt.

Does the least work any pipeline must do for a daily cycle, in one DuckDB process: read every
complete delivery's files, keep for each split and attribute the newest delivery that lists it,
turn membership into per-person booleans, diff that desired state against the state already
sent, and anti-join the events against the event ids already delivered. It skips everything dbt
adds: validation, rejected-row records, tests, contracts, model materialisations, its startup.

    python -m bench.duckdb_floor --landing DIR --db FILE --setup   # state := current desired
    python -m bench.duckdb_floor --landing DIR --db FILE           # timed: diff, print counts
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb


def _reader(landing: Path, stream: str) -> str:
    root = landing / stream
    parquet = list(root.glob("*/*.parquet"))
    if parquet:
        return f"read_parquet('{root}/*/*.parquet', union_by_name = true, filename = true)"
    return f"read_csv('{root}/*/*.csv', all_varchar = true, union_by_name = true, filename = true)"


def _complete(landing: Path, stream: str) -> list[str]:
    return sorted(p.parent.name for p in (landing / stream).glob("*/manifest.json"))


def _events_reader(landing: Path) -> str | None:
    root = landing / "events"
    if list(root.glob("*.parquet")):
        return f"read_parquet('{root}/*.parquet', union_by_name = true)"
    if list(root.glob("*.csv")):
        return f"read_csv('{root}/*.csv', all_varchar = true, union_by_name = true)"
    return None


def desired_state_sql(landing: Path) -> tuple[str, str | None]:
    """(attribute desired state query, events query) over the landing dir."""
    deliveries = _complete(landing, "membership")
    listed = ", ".join(f"'{d}'" for d in deliveries) or "''"
    attr_deliveries = _complete(landing, "attributes")
    newest_attr = attr_deliveries[-1] if attr_deliveries else ""
    attr_names: list[str] = []
    if newest_attr:
        manifest = json.loads((landing / "attributes" / newest_attr / "manifest.json").read_text())
        attr_names = list(manifest["attributes"])
    membership = f"""
        with rows as (
            select regexp_extract(filename, '([^/]+)/[^/]+$', 1) as delivery_id,
                   coalesce(external_id, braze_id) as person_key,
                   'AIQ_' || audience_id || '_' || split_id as attribute_name
            from {_reader(landing, "membership")}
        ),
        newest as (
            select attribute_name, max(delivery_id) as delivery_id
            from rows where delivery_id in ({listed}) group by all
        ),
        latest as (
            select distinct r.person_key, r.attribute_name
            from rows r join newest n using (attribute_name, delivery_id)
        ),
        ever as (select distinct person_key, attribute_name from rows)
        select e.person_key, e.attribute_name,
               case when l.person_key is null then 'false' else 'true' end as value_json
        from ever e
        left join latest l using (person_key, attribute_name)
    """
    if attr_names:
        unpivot_cols = ", ".join(f'"{n}"' for n in attr_names)
        attributes = f"""
            select coalesce(external_id, braze_id) as person_key, attribute_name,
                   coalesce(to_json(value), 'null') as value_json
            from (
                select * from {_reader(landing, "attributes")}
                where regexp_extract(filename, '([^/]+)/[^/]+$', 1) = '{newest_attr}'
            )
            unpivot include nulls (value for attribute_name in ({unpivot_cols}))
        """
        membership = f"{membership} union all {attributes}"
    events = _events_reader(landing)
    events_sql = None if events is None else f"select event_id from {events}"
    return membership, events_sql


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--landing", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--setup", action="store_true", help="record the current state as sent")
    args = p.parse_args(argv)
    started = time.perf_counter()
    con = duckdb.connect(args.db)
    con.execute("set enable_progress_bar = false")
    desired, events = desired_state_sql(Path(args.landing))
    if args.setup:
        con.execute(f"create or replace table sent as {desired}")
        con.execute(
            "create or replace table delivered as "
            + (events or "select null::varchar as event_id where false")
        )
        print(json.dumps({"setup_seconds": round(time.perf_counter() - started, 3)}))
        return 0
    con.execute(f"""
        create or replace table changes as
        select d.* from ({desired}) d
        left join sent s using (person_key, attribute_name)
        where s.value_json is distinct from d.value_json""")
    new_events = 0
    if events:
        con.execute(f"""
            create or replace table event_changes as
            select distinct event_id from ({events}) e anti join delivered using (event_id)""")
        new_events = con.execute("select count(*) from event_changes").fetchall()[0][0]
    changes = con.execute("select count(*) from changes").fetchall()[0][0]
    con.close()
    print(
        json.dumps(
            {
                "attribute_changes": changes,
                "new_events": new_events,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
