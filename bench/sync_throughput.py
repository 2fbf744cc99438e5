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

4. `--braze-client` (on by default with `--server emulator`; `--no-braze-client` turns it off):
   what a user would otherwise write, in the same run. The same change set, as the same
   75-object bodies, sent with PyPI's braze-client (bench/braze_client_loop.py in its own venv,
   bench/braze_client_env.py) one request after the other, then from a thread pool
   (`--braze-client-threads`), each against a fresh emulator with the same latency and config.
   Each loop stops starting requests after `--braze-client-seconds` and is projected linearly
   to the whole change set, as bench/run.py does. The ratios compare requests/s and wall time
   with the sync's.

Prints one JSON line and rewrites the result block of docs/benchmarks.md ("Sync throughput and
memory", between the sync-throughput markers) unless `--no-doc`:

    .venv/bin/python bench/sync_throughput.py --changes 1000000 --server emulator
    .venv/bin/python bench/sync_throughput.py --changes 10000000 --server null --max-seconds 120
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

from bench.report import _n as _num  # noqa: E402
from bench.report import replace_between_markers  # noqa: E402
from bench.run import machine_info  # noqa: E402
from braze_emulator.testing import run_emulator  # noqa: E402

BIN = Path(sys.executable).parent
BENCH_KEY = "bench-key-not-secret"
OBJECTS_PER_REQUEST = 75
EMULATOR_CONFIG = {"store_events": False, "request_log_bodies": 0, "request_log_size": 100}
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- sync-throughput:start -->", "<!-- sync-throughput:end -->"


def person_key(i: int) -> str:
    """The braze_key of person i, as build_warehouse writes it (lpad to 9 digits)."""
    return f"user-{i:09d}"


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
                   'user-' || lpad(i::varchar, 9, '0') as braze_key,  -- person_key(i)
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


# ---- the braze-client comparison --------------------------------------------------------------


def write_bodies(path: Path, changes: int, limit: int) -> int:
    """The sync's requests for `changes` (persons in key order, 75 per request), as JSON lines
    for bench/braze_client_loop.py; at most `limit` of them (what a time-bounded loop can
    send). Returns the number of requests of the whole change set."""
    total = -(-changes // OBJECTS_PER_REQUEST)
    with path.open("w", encoding="utf-8") as fh:
        for r in range(min(total, limit)):
            lo, hi = r * OBJECTS_PER_REQUEST, min(changes, (r + 1) * OBJECTS_PER_REQUEST)
            attrs = [{"external_id": person_key(i), "AIQ_1042_1": True} for i in range(lo, hi)]
            fh.write(json.dumps({"attributes": attrs}, separators=(",", ":")) + "\n")
    return total


def run_braze_client(
    work: Path, changes: int, latency_ms: float, seconds: float, threads: int
) -> dict[str, Any]:
    """Both braze-client loops, each time-bounded, against a fresh emulator; projected."""
    from bench import braze_client_env

    try:
        client_python = braze_client_env.ensure()
    except Exception as exc:  # noqa: BLE001 - report why, keep the sync's result
        return {"error": f"could not build bench/.venv-braze-client: {exc}"}
    # Enough bodies for the fastest loop within its budget (one request per latency per
    # thread), never more than the change set holds.
    limit = int(seconds * 1000 / max(latency_ms, 1.0) * threads * 1.2) + threads
    bodies = work / "braze-client-bodies.jsonl"
    total = write_bodies(bodies, changes, limit)
    loops = []
    for mode in ("sequential", "threaded"):
        with run_emulator(api_key=BENCH_KEY, latency_ms=latency_ms, config=EMULATOR_CONFIG) as emu:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BRAZE_")}
            env.update(BRAZE_REST_ENDPOINT=emu.base_url, BRAZE_API_KEY=emu.api_key)
            cmd = [
                str(client_python),
                str(ROOT / "bench" / "braze_client_loop.py"),
                "--payloads",
                str(bodies),
                "--mode",
                mode,
                "--workers",
                str(threads),
                "--max-seconds",
                str(seconds),
            ]
            cpu = os.times()
            proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            cpu_after = os.times()
            counters = emu.state(include="counters,data_points")
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            loops.append({"mode": mode, "error": proc.stderr[-2000:] or "no output"})
            continue
        loop = json.loads(lines[-1])
        sent = max(1, int(loop["requests"]))
        loop_s = float(loop["seconds"])
        loop.update(
            threads=1 if mode == "sequential" else threads,
            requests_per_second=round(sent / loop_s, 1) if loop_s else 0.0,
            projected_requests=total,
            projected_seconds=round(loop_s * total / sent, 1),
            client_cpu_ms_per_request=round(
                1000
                * (
                    cpu_after.children_user
                    + cpu_after.children_system
                    - cpu.children_user
                    - cpu.children_system
                )
                / sent,
                2,
            ),
            emulator={
                "requests": counters["counters"]["requests"],
                "by_status": counters["counters"]["responses_by_status"],
                "data_points": counters["data_points"]["total"],
            },
        )
        loops.append(loop)
    return {"threads": threads, "budget_seconds": seconds, "requests_total": total, "loops": loops}


def add_ratios(result: dict[str, Any]) -> None:
    """sync / braze-client requests per second, and braze-client / sync wall time."""
    sync_rps = result["sustained_requests_per_second"]
    for loop in result.get("braze_client", {}).get("loops", []):
        if "error" in loop:
            continue
        rps = loop["requests_per_second"]
        loop["ratio_requests_per_second"] = round(sync_rps / rps, 1) if rps else None
        loop["ratio_wall_time"] = round(loop["projected_seconds"] / result["wall_seconds"], 1)


# ---- the result block in docs/benchmarks.md -----------------------------------------------------


def doc_block(result: dict[str, Any]) -> str:
    m = result["machine"]
    v = m["versions"]
    load = result["load_average_before"], result["load_average"]
    s = result["summary"]
    lines = [
        f"Last run: {m['date_utc']}, `{result['command']}`; {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, {m['os']}; Python {m['python']}, duckdb {v['duckdb']}, "
        f"aiohttp {v['aiohttp']}, braze-client {BRAZE_CLIENT_VERSION} (its own venv). Load "
        f"average (1, 5, 15 min) before: {' '.join(f'{x:.1f}' for x in load[0])}, after the "
        f"sync: {' '.join(f'{x:.1f}' for x in load[1])}. Server: `{result['server']}`, "
        f"{_num(result['latency_ms'])} ms latency per request; {result['changes']:,} changes "
        f"= {-(-result['changes'] // OBJECTS_PER_REQUEST):,} requests of 75 objects.",
        "",
        "| sender | requests/s | changes/s | wall s (whole change set) | CPU per request "
        "| sync ratio: requests/s | sync ratio: wall time |",
        "|---|---|---|---|---|---|---|",
        f"| `python -m sync run` (sustained; wall includes start-up and staging) | "
        f"**{_num(result['sustained_requests_per_second'])}** | "
        f"{_num(result['sustained_changes_per_second'])} | {_num(result['wall_seconds'])} | "
        f"{_num(round(result['sync_cpu_us_per_change'] * OBJECTS_PER_REQUEST / 1000, 2))} ms "
        f"| 1 | 1 |",
    ]
    bc = result.get("braze_client")
    if bc and "error" in bc:
        lines.append(f"| braze-client loops | not run: {bc['error'][:200]} | | | | | |")
    for loop in (bc or {}).get("loops", []):
        if "error" in loop:
            lines.append(f"| braze-client {loop['mode']} | failed | | | | | |")
            continue
        how = (
            "one request after the other"
            if loop["mode"] == "sequential"
            else f"thread pool of {loop['threads']}"
        )
        stopped = (
            ""
            if loop["complete"]
            else f"; stopped after {_num(loop['seconds'])} s ({loop['requests']:,} "
            f"requests), projected"
        )
        lines.append(
            f"| braze-client loop, {how}{stopped} | {_num(loop['requests_per_second'])} | "
            f"{_num(round(loop['requests_per_second'] * OBJECTS_PER_REQUEST))} | "
            f"{_num(loop['projected_seconds'])} | {_num(loop['client_cpu_ms_per_request'])} ms "
            f"| **{_num(loop['ratio_requests_per_second'])}x** | "
            f"**{_num(loop['ratio_wall_time'])}x** |"
        )
    em = result.get("emulator")
    lines += [
        "",
        f"Sync: exit code {result['exit_code']}, {s['requests']:,} requests "
        f"({s.get('retries', 0):,} retries, {s.get('rate_limited', 0):,} answered 429), "
        f"{s['attribute_changes_sent']:,} changes sent, peak RSS {_num(result['peak_rss_mb'])} MB,"
        f" CPU {_num(result['sync_cpu_us_per_change'])} us per change; timings "
        f"{json.dumps(s.get('timings', {}))}."
        + (
            f" Emulator: {em['requests']:,} requests, statuses {json.dumps(em['by_status'])}, "
            f"{em['data_points']:,} data points."
            if em
            else ""
        ),
        "Ratios: the sync's sustained requests/s over the loop's; the loop's (projected) "
        "sending time over the sync's whole wall time.",
    ]
    return "\n".join(lines)


BRAZE_CLIENT_VERSION = "2.3.3"


def write_doc(path: Path, result: dict[str, Any]) -> None:
    """Replace the text between the markers with this run's block."""
    replace_between_markers(path, START, END, doc_block(result))


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
    p.add_argument(
        "--braze-client",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run the braze-client loops (default: on with --server emulator)",
    )
    p.add_argument(
        "--braze-client-seconds",
        type=float,
        default=60.0,
        help="time budget of each braze-client loop, then projected",
    )
    p.add_argument("--braze-client-threads", type=int, default=16)
    p.add_argument("--doc", default=str(DOC), help="the markdown file to rewrite")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite --doc")
    args = p.parse_args()
    with_client = (
        args.braze_client if args.braze_client is not None else (args.server == "emulator")
    )
    load_before = os.getloadavg()
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
            with run_emulator(
                api_key=BENCH_KEY, latency_ms=args.latency_ms, config=EMULATOR_CONFIG
            ) as emu:
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
        load_after_sync = os.getloadavg()
        if with_client:
            result["braze_client"] = run_braze_client(
                work,
                args.changes,
                args.latency_ms,
                args.braze_client_seconds,
                args.braze_client_threads,
            )
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
            result["cpu_seconds"] * 1e6 / max(1, s["attribute_changes_sent"]), 2
        ),
        machine=machine_info(".venv/bin/python bench/sync_throughput.py " + " ".join(sys.argv[1:])),
        load_average_before=load_before,
        load_average=load_after_sync,
        load_average_end=os.getloadavg(),
        command=".venv/bin/python bench/sync_throughput.py " + " ".join(sys.argv[1:]),
    )
    add_ratios(result)
    print(json.dumps(result))
    if not args.no_doc and args.doc:
        write_doc(Path(args.doc), result)


if __name__ == "__main__":
    main()
