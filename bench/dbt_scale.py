"""dbt build at scale: membership deliveries from files to change tables.

Measures, in one run and on this machine:

1. first delivery: `dbt build` on one delivery of --rows membership rows (--people persons over
   --splits splits), empty ledger, against DuckDB alone reading the same files and computing a
   plain full-outer-join diff (the baseline). Peak memory of the dbt process.
2. steady state: the sync is simulated (ledger = everything sent), a second delivery with
   --churn of the rows changed lands; dbt build against the same baseline, now diffing against
   the full ledger.
3. history (--history-rows per delivery, smaller so that it fits the time): a build of one new
   delivery with one earlier delivery applied, against the same build with --history earlier
   deliveries applied. Old delivery folders are deleted once applied, to prove they are not read.

Data is generated with DuckDB `COPY ... TO` in the extract layout (CSV parts + manifest.json).

    .venv/bin/python bench/dbt_scale.py                       # 50M rows, 10M people, 20 splits
    .venv/bin/python bench/dbt_scale.py --rows 5000000 --people 1000000   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"


@dataclass
class Timed:
    seconds: float
    peak_rss_mb: float


def members_sql(rows: int, people: int, splits: int, seed: int) -> str:
    """rows member rows: person p is in splits (7p + 3k + seed) % splits for k < rows/people.

    Identity mix: every 20th person has only a braze_id, every 5th has both identifiers, the
    rest only an external_id. seed shifts memberships between deliveries (churn).
    """
    return f"""
        select
            '{{audience}}' as audience_id,
            cast(((p * 7 + (r // {people}) * 3 + {seed}) % {splits}) as varchar) as split_id,
            case when p % 20 != 0 then 'u' || p end as external_id,
            case when p % 20 = 0 or p % 5 = 1 then lpad(to_hex(p), 24, '0') end as braze_id
        from (select range as r, range % {people} as p from range({rows}))
    """.replace("{audience}", "1042")


def write_delivery(
    landing: Path, delivery_id: str, exported_at: str, sql: str, con: duckdb.DuckDBPyConnection
) -> None:
    folder = landing / "membership" / delivery_id
    folder.mkdir(parents=True, exist_ok=True)
    con.execute(f"create or replace temp table delivery as {sql}")
    con.execute(
        f"copy delivery to '{folder}' (format csv, header true, per_thread_output true, "
        "overwrite_or_ignore true)"
    )
    counts = con.execute(
        "select audience_id, split_id, count(*) from delivery group by all order by all"
    ).fetchall()
    manifest = {
        "delivery_id": delivery_id,
        "exported_at": exported_at,
        "audiences": [{"audience_id": a, "split_id": s, "member_count": n} for a, s, n in counts],
        "retired": [],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def dbt_build(work: Path, landing: Path, warehouse: Path) -> Timed:
    env = {
        **os.environ,
        "DUCKDB_PATH": str(warehouse),
        "AIQ_LANDING_DIR": str(landing),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        "/usr/bin/time",
        "-f",
        "PEAK_RSS_KB=%M",
        str(DBT),
        "build",
        "--profiles-dir",
        "profiles",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps({"aiq_guard_allow_deliveries": [], "aiq_guard_max_drop_share": 1}),
    ]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"dbt build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    rss_kb = next(
        int(line.split("=")[1]) for line in proc.stderr.splitlines() if "PEAK_RSS_KB=" in line
    )
    return Timed(seconds, rss_kb / 1024)


def record_sync(warehouse: Path) -> None:
    """What the sync does once Braze acknowledged every change: upsert them into the ledger."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            """
            delete from sync_attribute_ledger as ledger
            using braze_attribute_changes as changes
            where ledger.braze_key_type = changes.braze_key_type
              and ledger.braze_key = changes.braze_key
              and ledger.attribute_name = changes.attribute_name;
            insert into sync_attribute_ledger
            select braze_key_type, braze_key, attribute_name, value_json, source_stream,
                   'bench', now()
            from braze_attribute_changes;
            """
        )


def baseline(landing: Path, delivery_id: str, warehouse: Path, work: Path) -> float:
    """DuckDB alone: read the delivery's files, full-outer-join them with the ledger, write."""
    files = sorted(str(p) for p in (landing / "membership" / delivery_id).glob("*.csv"))
    db = work / "baseline.duckdb"
    db.unlink(missing_ok=True)
    start = time.perf_counter()
    with duckdb.connect(str(db)) as con:
        con.execute("set threads = 2")
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        con.execute(
            f"""
            create table baseline_changes as
            with desired as (
                select distinct
                    'AIQ_' || audience_id || '_' || split_id as attribute_name,
                    coalesce(external_id, braze_id) as braze_key
                from read_csv({files}, all_varchar = true, header = true)
            ),
            held as (
                select attribute_name, braze_key, value_json
                from wh.main.sync_attribute_ledger
            )
            select
                coalesce(desired.braze_key, held.braze_key) as braze_key,
                coalesce(desired.attribute_name, held.attribute_name) as attribute_name,
                case when desired.braze_key is null then 'false' else 'true' end as value_json
            from desired
            full outer join held
                on desired.braze_key = held.braze_key
                and desired.attribute_name = held.attribute_name
            where (desired.braze_key is null and held.value_json = 'true')
               or (desired.braze_key is not null and held.value_json is distinct from 'true')
            """
        )
    return time.perf_counter() - start


def change_count(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) from braze_attribute_changes").fetchone()[0]


def scale(args: argparse.Namespace, work: Path, con: duckdb.DuckDBPyConnection) -> list[str]:
    landing, warehouse = work / "landing", work / "scale.duckdb"
    shutil.rmtree(landing, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    lines = []
    t0 = time.perf_counter()
    write_delivery(
        landing,
        "d001",
        "2026-11-01T00:00:00Z",
        members_sql(args.rows, args.people, args.splits, 0),
        con,
    )
    lines.append(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.0f} s")
    build = dbt_build(work, landing, warehouse)
    base = baseline(landing, "d001", warehouse, work)
    lines.append(
        f"first delivery: dbt build {build.seconds:.1f} s, baseline {base:.1f} s, "
        f"ratio {build.seconds / base:.2f}, dbt peak RSS {build.peak_rss_mb:,.0f} MB, "
        f"changes {change_count(warehouse):,}"
    )
    record_sync(warehouse)
    # Second delivery: a share of the persons (churn) move to other splits.
    churned = members_sql(args.rows, args.people, args.splits, 0).replace(
        "+ 0) %", f"+ case when p % {round(1 / args.churn)} = 0 then 1 else 0 end) %"
    )
    write_delivery(landing, "d002", "2026-11-02T00:00:00Z", churned, con)
    shutil.rmtree(landing / "membership" / "d001")
    build = dbt_build(work, landing, warehouse)
    base = baseline(landing, "d002", warehouse, work)
    lines.append(
        f"steady state (ledger full, {args.churn:.0%} churn): dbt build {build.seconds:.1f} s, "
        f"baseline {base:.1f} s, ratio {build.seconds / base:.2f}, "
        f"dbt peak RSS {build.peak_rss_mb:,.0f} MB, changes {change_count(warehouse):,}"
    )
    return lines


def history(args: argparse.Namespace, work: Path, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Build time of one new delivery with 1 vs --history earlier deliveries applied."""
    results = {}
    for earlier in (1, args.history):
        landing, warehouse = work / f"landing_h{earlier}", work / f"history_{earlier}.duckdb"
        shutil.rmtree(landing, ignore_errors=True)
        warehouse.unlink(missing_ok=True)
        for n in range(earlier):
            write_delivery(
                landing,
                f"h{n:03d}",
                f"2026-10-{1 + n % 28:02d}T{n // 28:02d}:00:00Z",
                members_sql(args.history_rows, args.history_rows // 5, args.splits, n),
                con,
            )
        dbt_build(work, landing, warehouse)
        record_sync(warehouse)
        for n in range(earlier):
            shutil.rmtree(landing / "membership" / f"h{n:03d}")
        write_delivery(
            landing,
            "h999",
            "2026-11-28T00:00:00Z",
            members_sql(args.history_rows, args.history_rows // 5, args.splits, 999),
            con,
        )
        results[earlier] = dbt_build(work, landing, warehouse).seconds
    ratio = results[args.history] / results[1]
    return [
        f"history ({args.history_rows:,} rows per delivery): new delivery after 1 applied "
        f"{results[1]:.1f} s, after {args.history} applied {results[args.history]:.1f} s, "
        f"ratio {ratio:.2f}"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--people", type=int, default=10_000_000)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--churn", type=float, default=0.02)
    parser.add_argument("--history", type=int, default=30)
    parser.add_argument("--history-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--workdir", type=Path, default=PROJECT_DIR / "bench" / "out" / "dbt")
    args = parser.parse_args()
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    lines = []
    with duckdb.connect() as con:
        if not args.skip_scale:
            lines += scale(args, work, con)
            print("\n".join(lines), flush=True)
        if not args.skip_history:
            lines += history(args, work, con)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
