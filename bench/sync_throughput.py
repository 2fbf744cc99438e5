"""Throughput and peak memory of `python -m sync run` on N pending attribute changes.

One change per person (`AIQ_1042_1 = true`), so a request carries 75 objects = 75 changes, the
shape of Braze's ceiling (1,000 requests/s x 75 = 75,000 changes/s). Steps:

1. `dbt build --select state` on a fresh DuckDB file (the state tables), then the change table
   `braze_attribute_changes` is filled with N rows by SQL (the contract of docs/architecture.md).
2. A server on 127.0.0.1 answering /users/track after --latency-ms:
   `--server emulator`: `python -m braze_emulator` (every Braze rule on, its default rate limit of
   3,000 requests per 3 s, event storage and request-body logging off);
   `--server null`: a minimal aiohttp server here that reads the body and answers 201, to measure
   the sync's own ceiling apart from the emulator's CPU.
3. `python -m sync run` as a child process; wall time and peak RSS from wait4 (DuckDB runs inside
   the sync process, so its memory is included). `--max-seconds` interrupts the run (SIGINT)
   after that long: peak memory is reached while the pending query is sorted, before sending.

Prints one JSON line, for docs/benchmarks.md ("Sync throughput and memory"):

    .venv/bin/python bench/sync_throughput.py --changes 1000000 --server emulator
    .venv/bin/python bench/sync_throughput.py --changes 10000000 --server null --max-seconds 120
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from braze_emulator.testing import run_emulator  # noqa: E402

BIN = Path(sys.executable).parent
BENCH_KEY = "bench-key-not-secret"


def build_warehouse(work: Path, changes: int) -> Path:
    path = work / "warehouse.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRAZE_", "AIQ_", "DBT_"))}
    env.update(
        DUCKDB_PATH=str(path),
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    subprocess.run(
        [str(BIN / "dbt"), "build", "--select", "state", "--profiles-dir", "profiles"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute(f"""create table braze_attribute_changes as
            select 'external_id' as braze_key_type,
                   'user-' || lpad(i::varchar, 9, '0') as braze_key,
                   'AIQ_1042_1' as attribute_name, 'true' as value_json,
                   'membership' as source_stream, 'bench-delivery' as source_id
            from range({changes}) as r(i)""")
        con.execute("""create table braze_event_changes (event_id varchar,
            braze_key_type varchar, braze_key varchar, event_name varchar,
            event_time timestamp, properties_json varchar, source_id varchar)""")
    return path


# ---- the null server ----------------------------------------------------------------------------


def serve_null(port: int, latency_ms: float) -> None:
    from aiohttp import web

    body = b'{"message":"success","attributes_processed":75}'

    async def track(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(latency_ms / 1000)
        return web.Response(status=201, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/users/track", track)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, backlog=2048)
        await site.start()
        print(
            f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}",  # type: ignore
            flush=True,
        )
        await asyncio.Event().wait()

    asyncio.run(main())


@contextmanager
def null_server(latency_ms: float):
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-null", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---- the measured run ---------------------------------------------------------------------------


def run_sync(
    warehouse: Path,
    base_url: str,
    api_key: str,
    max_seconds: float | None,
    extra_env: dict[str, str],
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRAZE_", "AIQ_SYNC_"))}
    env.update(
        DUCKDB_PATH=str(warehouse), BRAZE_REST_ENDPOINT=base_url, BRAZE_API_KEY=api_key, **extra_env
    )
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sync", "run"], cwd=ROOT, env=env, stdout=out, stderr=err
        )
        interrupted = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if (
                max_seconds is not None
                and not interrupted
                and time.perf_counter() - started > max_seconds
            ):
                proc.send_signal(signal.SIGINT)
                interrupted = True
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    summary: dict[str, Any] = {}
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            summary = json.loads(line)
            break
    if not summary:
        raise SystemExit(f"the sync printed no summary:\n{stderr[-3000:]}")
    return {
        "wall_seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "exit_code": os.waitstatus_to_exitcode(status),
        "summary": summary,
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-null":
        serve_null(0, float(sys.argv[2]))
        return
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--changes", type=int, default=1_000_000)
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--server", choices=("emulator", "null"), default="emulator")
    p.add_argument("--concurrency", type=int, default=None)
    p.add_argument("--max-seconds", type=float, default=None)
    p.add_argument("--work-dir", default=None, help="keep the warehouse here (default: temp)")
    args = p.parse_args()
    extra = {}
    if args.concurrency:
        extra["AIQ_SYNC_CONCURRENCY"] = str(args.concurrency)
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        warehouse = build_warehouse(work, args.changes)
        setup_s = time.perf_counter() - t
        if args.server == "emulator":
            config = {"store_events": False, "request_log_bodies": 0, "request_log_size": 100}
            with run_emulator(api_key=BENCH_KEY, latency_ms=args.latency_ms, config=config) as emu:
                result = run_sync(warehouse, emu.base_url, emu.api_key, args.max_seconds, extra)
                counters = emu.state(include="counters,data_points")
                result["emulator"] = {
                    "requests": counters["counters"]["requests"],
                    "by_status": counters["counters"]["responses_by_status"],
                    "data_points": counters["data_points"]["total"],
                }
        else:
            with null_server(args.latency_ms) as url:
                result = run_sync(warehouse, url, BENCH_KEY, args.max_seconds, extra)
    s = result["summary"]
    send_s = s.get("timings", {}).get("send_s") or s["seconds"]
    result.update(
        changes=args.changes,
        server=args.server,
        latency_ms=args.latency_ms,
        setup_seconds=round(setup_s, 1),
        sustained_requests_per_second=round(s["requests"] / send_s, 1) if send_s else 0.0,
        sustained_changes_per_second=round(s["attribute_changes_sent"] / send_s) if send_s else 0,
        sync_cpu_us_per_change=round(
            result["cpu_seconds"] * 1e6 / max(1, s["attribute_changes_sent"]), 2),
        machine=f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        load_average=os.getloadavg(),
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
