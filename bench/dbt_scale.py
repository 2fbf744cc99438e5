"""dbt build at scale: membership deliveries from files to change tables.

Measures, in one run and on this machine:

1. first delivery: `dbt build` on one delivery of --rows membership rows (--people persons over
   --splits splits), empty ledger, against DuckDB alone reading the same files and computing a
   plain full-outer-join diff (the baseline). Peak memory of the dbt process.
2. second delivery: the sync is simulated (ledger = everything sent), a second delivery with
   --churn of the rows changed lands; dbt build against the same baseline, now diffing against
   the full ledger, all of it recorded since the last build (so its uniqueness test checks it
   in full).
3. steady state: the same again with a third delivery: the daily case, where only the last
   sync's rows are new to the ledger's uniqueness test.
4. history (--history-rows per delivery, smaller so that it fits the time): a build of one new
   delivery with one earlier delivery applied, against the same build with --history earlier
   deliveries applied. Old delivery folders are deleted once applied, to prove they are not read.

Data is generated with DuckDB `COPY ... TO` in the extract layout (CSV parts + manifest.json).

    .venv/bin/python bench/dbt_scale.py --doc docs/benchmarks.md   # 50M rows, 10M people, 20 splits
    .venv/bin/python bench/dbt_scale.py --rows 5000000 --people 1000000   # quicker, no doc
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
sys.path.insert(0, str(PROJECT_DIR))

from bench.report import replace_between_markers  # noqa: E402
from extracts.acknowledge import accept_attribute_changes  # noqa: E402

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
    con.execute("drop table delivery")


CACHE_STATES: set[str] = set()  # how each timed step started, for the run's note


def settled() -> None:
    """Start a timed step from the same state as every other: what the harness wrote (the files
    of a delivery, the ledger of a simulated sync) flushed to disk, and the page cache dropped,
    so that no step reads from memory what an earlier step happened to leave there. Without it,
    a build right after the baseline found the warehouse evicted (65 s) and the same build after
    a copy found it cached (48-52 s), while DuckDB alone varied little (18-22 s). A daily job
    starts cold. Dropping the cache needs root; without it the step starts as it finds the
    cache, and the run's note says so."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1", encoding="ascii")  # page cache only
        CACHE_STATES.add("dropped")
    except OSError:
        CACHE_STATES.add("not dropped")


def dbt_build(work: Path, landing: Path, warehouse: Path) -> Timed:
    env = {
        **os.environ,
        "DUCKDB_PATH": str(warehouse),
        "AIQ_LANDING_DIR": str(landing),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    usage = work / "rusage.json"
    # Started through a small launcher, so that the peak is dbt's own (bench/rusage_exec.py).
    command = [
        sys.executable,
        str(PROJECT_DIR / "bench" / "rusage_exec.py"),
        str(usage),
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
    settled()
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"dbt build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    rss_kb = json.loads(usage.read_text(encoding="utf-8"))["maxrss_kb"]
    return Timed(seconds, rss_kb / 1024)


def record_sync(warehouse: Path) -> None:
    """What the sync does once Braze acknowledged every change: upsert them into the ledger."""
    with duckdb.connect(str(warehouse)) as con:
        accept_attribute_changes(con, f"bench-{time.time_ns()}")  # one id per sync run


def baseline(landing: Path, delivery_id: str, warehouse: Path, work: Path) -> float:
    """DuckDB alone: read the delivery's files, full-outer-join them with the ledger, write."""
    files = sorted(str(p) for p in (landing / "membership" / delivery_id).glob("*.csv"))
    db = work / "baseline.duckdb"
    db.unlink(missing_ok=True)
    settled()
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


def scale(args: argparse.Namespace, work: Path, con: duckdb.DuckDBPyConnection) -> dict:
    landing, warehouse = work / "landing", work / "scale.duckdb"
    shutil.rmtree(landing, ignore_errors=True)
    warehouse.unlink(missing_ok=True)
    t0 = time.perf_counter()
    write_delivery(
        landing,
        "d001",
        "2026-11-01T00:00:00Z",
        members_sql(args.rows, args.people, args.splits, 0),
        con,
    )
    result: dict = {"generate_seconds": round(time.perf_counter() - t0, 1)}
    build = dbt_build(work, landing, warehouse)
    base = baseline(landing, "d001", warehouse, work)
    result["first"] = measured(build, base, change_count(warehouse))
    print(f"first delivery: {result['first']}", flush=True)
    # Each later delivery moves another share (churn) of the persons to other splits: persons
    # p % every in (0, ..., day - 2) are shifted by one split on day `day`.
    every = round(1 / args.churn)
    for day, key in ((2, "second"), (3, "steady")):
        record_sync(warehouse)
        shifted = " or ".join(f"p % {every} = {k}" for k in range(day - 1))
        churned = members_sql(args.rows, args.people, args.splits, 0).replace(
            "+ 0) %", f"+ case when {shifted} then 1 else 0 end) %"
        )
        write_delivery(landing, f"d{day:03d}", f"2026-11-{day:02d}T00:00:00Z", churned, con)
        shutil.rmtree(landing / "membership" / f"d{day - 1:03d}")
        build = dbt_build(work, landing, warehouse)
        base = baseline(landing, f"d{day:03d}", warehouse, work)
        result[key] = measured(build, base, change_count(warehouse))
        print(f"{key} delivery: {result[key]}", flush=True)
    return result


def measured(build: Timed, base: float, changes: int) -> dict:
    return {
        "dbt_seconds": round(build.seconds, 1),
        "baseline_seconds": round(base, 1),
        "ratio": round(build.seconds / base, 2),
        "dbt_peak_rss_mb": round(build.peak_rss_mb),
        "changes": changes,
    }


def history(args: argparse.Namespace, work: Path, con: duckdb.DuckDBPyConnection) -> dict:
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
    result = {
        "rows_per_delivery": args.history_rows,
        "earlier": args.history,
        "after_one_seconds": round(results[1], 1),
        "after_many_seconds": round(results[args.history], 1),
        "ratio": round(results[args.history] / results[1], 2),
    }
    print(f"history: {result}", flush=True)
    return result


START, END = "<!-- dbt-scale:start -->", "<!-- dbt-scale:end -->"


def render(runs: dict) -> str:
    """The doc section, between its markers: one table row per scenario, each with the run that
    measured it."""
    rows, notes = [], []
    for key in ("scale", "history"):
        run = runs.get(key)
        if not run:
            continue
        m = run["machine"]
        notes.append(
            f"- {key}: {m['date_utc']}, `{m['command']}`, commit `{m['commit']}`, {m['cores']} "
            f"cores, {m['memory_gib']} GiB, dbt-core {m['versions']['dbt-core']}, dbt-duckdb "
            f"{m['versions']['dbt-duckdb']}, duckdb {m['versions']['duckdb']}, "
            f"`AIQ_DBT_MEMORY_LIMIT` {run['memory_limit']}, page cache "
            f"{run.get('page_cache', 'not dropped')}; load average at the start "
            f"{m['load_average']}, at the end {run['load_average_end']}"
        )
        if key == "scale":
            size = f"{run['rows']:,} rows ({run['people']:,} people, {run['splits']} splits)"
            for name, label in (
                ("first", f"first delivery of {size}, empty ledger"),
                (
                    "second",
                    f"second delivery, ledger of {run['first']['changes']:,} rows, all recorded "
                    f"since the last build (its uniqueness checked in full), {run['churn']:.0%} "
                    "churn",
                ),
                (
                    "steady",
                    f"third delivery (daily steady state), ledger of {run['first']['changes']:,} "
                    f"rows, {run['churn']:.0%} churn and recorded since the last build",
                ),
            ):
                r = run.get(name)
                if r is None:
                    continue
                rows.append(
                    f"| {label} | {r['dbt_seconds']:,} s | {r['baseline_seconds']:,} s | "
                    f"**{r['ratio']}** | **{r['dbt_peak_rss_mb']:,} MB** | {r['changes']:,} |"
                )
        else:
            rows.append(
                f"| new delivery after 1 vs after {run['earlier']} earlier deliveries applied "
                f"({run['rows_per_delivery']:,} rows each) | {run['after_one_seconds']} s vs "
                f"{run['after_many_seconds']} s | | **{run['ratio']}** (target <= 1.2) | | |"
            )
    return "\n".join(
        [
            "| scenario | dbt build | DuckDB alone | ratio (target <= 3) "
            "| dbt peak RSS (target < 8 GB) | changes |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "Runs:",
            "",
            *notes,
        ]
    )


def machine(argv: str) -> dict:
    """Machine, versions, commit, date and load average, taken when a part starts."""
    from bench.run import machine_info

    return machine_info(f"bench/dbt_scale.py {argv}".strip())


def write_doc(doc: Path, results_file: Path, part: str, result: dict, started: dict) -> None:
    """Keep this run's figures in results_file and rewrite the doc section from it."""
    runs = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
    runs[part] = {
        **result,
        "machine": started,
        "load_average_end": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "memory_limit": os.environ.get("AIQ_DBT_MEMORY_LIMIT", "25% (the profile's default)"),
        "page_cache": (
            "dropped before each timed step"
            if CACHE_STATES == {"dropped"}
            else "not dropped before every timed step (needs root): times may be partly warm"
        ),
    }
    results_file.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    replace_between_markers(doc, START, END, render(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--people", type=int, default=10_000_000)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--churn", type=float, default=0.02)
    parser.add_argument("--history", type=int, default=30)
    parser.add_argument("--history-rows", type=int, default=200_000)
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--workdir", type=Path, default=PROJECT_DIR / "bench" / "out" / "dbt")
    parser.add_argument(
        "--doc", type=Path, help="rewrite this file's dbt-scale section (docs/benchmarks.md)"
    )
    args = parser.parse_args()
    argv = " ".join(sys.argv[1:])
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    results_file = PROJECT_DIR / "bench" / "out" / "dbt_scale.json"
    with duckdb.connect() as con:
        if not args.skip_scale:
            started = machine(argv)
            result = scale(args, work, con)
            result.update(rows=args.rows, people=args.people, splits=args.splits, churn=args.churn)
            if args.doc:
                write_doc(args.doc, results_file, "scale", result, started)
        if not args.skip_history:
            started = machine(argv)
            result = history(args, work, con)
            if args.doc:
                write_doc(args.doc, results_file, "history", result, started)


if __name__ == "__main__":
    main()
