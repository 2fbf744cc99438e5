"""The end-to-end benchmark: `make bench` (full) and `make bench-quick` (smoke, < 10 minutes).

    python -m bench.run [--quick] [--out bench/out] [--doc docs/benchmarks.md] [--no-doc]
                        [--scales K ...] [--resume]

For each size (1x, 2x, 4x, 8x of the base), in a fresh landing dir, warehouse and emulator
(50 ms latency, Braze's 1,000 requests/s limit on /users/track):

1. initial: day 0's extracts, `dbt build`, `python -m sync run` (the first full load);
2. daily: day 1's extracts (2% churn) land, `dbt build`, `python -m sync run`;
3. nothing new: `dbt build`, `python -m sync run` again with no new files (the fixed cost).

Each command runs as a child process through its public CLI; wall time and peak memory come
from the kernel (bench/measure.py), requests and data points from the emulator's counters.
At 1x it also measures, on the same day-1 data: the DuckDB floor (bench/duckdb_floor.py), a
full re-send of every row (Braze CDI's billing for a table rewritten daily; bench/full_resend.py)
and braze-client loops, sequential and threaded (bench/braze_client_loop.py in its own venv).
Results go to <out>/results-<mode>.json and into docs/benchmarks.md between markers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import duckdb

from bench import braze_client_env, report
from bench.full_resend import write_payloads
from bench.measure import StageResult, run_stage
from braze_emulator.testing import EmulatorHandle, run_emulator
from extracts.generator import ExtractSpec, delivery_id, generate_day

ROOT = Path(__file__).resolve().parent.parent
LATENCY_MS = 50.0
BRAZE_LIMIT_RPS = 1000.0
EMULATOR_CONFIG = {"store_events": False, "request_log_size": 200, "request_log_bodies": 0}
# The emulator's memory (all its processes, PSS) with EMULATOR_CONFIG after the daily sync,
# measured by run_cycle (emulator_memory) at 200,000 and 400,000 people: 378 and 666 MB, i.e.
# about 1.44 MB per 1,000 people plus 90 MB; 8x (8,000,000 people) projects to ~11.4 GB.
EMULATOR_MB_PER_PERSON = 0.00144
EMULATOR_BASE_MB = 90.0
HEADROOM_MB = 1024.0  # the harness and the kernel (the sync never runs beside dbt)
MIN_DBT_MB = 1024.0  # below this a build cannot start: the size is stopped before it begins
PROFILE_MEMORY_SHARE = 0.25  # profiles/profiles.yml: memory_limit defaults to 25% of RAM


@dataclass(frozen=True)
class Plan:
    mode: str
    base: ExtractSpec
    scales: tuple[int, ...]
    threads: int  # braze-client thread pool size
    sequential_budget_s: float  # the sequential loop stops after this; the rest is extrapolated
    threaded_budget_s: float
    stage_timeout_s: float | None


FULL = Plan(
    mode="full",
    base=ExtractSpec(
        people=1_000_000,
        splits=20,
        churn=0.02,
        events_per_day=500_000,
        attributes=5,
        seed=42,
        format="csv",
    ),
    scales=(1, 2, 4, 8),
    threads=16,
    sequential_budget_s=180.0,
    threaded_budget_s=180.0,
    stage_timeout_s=None,
)
QUICK = Plan(
    mode="quick",
    base=ExtractSpec(
        people=10_000,
        splits=20,
        churn=0.02,
        events_per_day=5_000,
        attributes=5,
        seed=42,
        format="csv",
    ),
    scales=(1, 2, 4),  # dbt build's fixed cost (~20-30 s a build here) rules out 8x in 10 min
    threads=16,
    sequential_budget_s=20.0,
    threaded_budget_s=20.0,
    stage_timeout_s=240.0,
)


def _scaled(spec: ExtractSpec, k: int) -> ExtractSpec:
    return replace(spec, people=spec.people * k, events_per_day=spec.events_per_day * k)


def _counters(emu: EmulatorHandle) -> dict[str, int]:
    state = emu.state(include="data_points,counters")
    c = state["counters"]
    return {
        "requests": int(c["requests_by_path"].get("/users/track", 0)),
        "responses_429": int(c["responses_by_status"].get("429", 0)),
        "data_points": int(state["data_points"]["total"]),
        "objects_rejected": int(sum(c["objects_rejected"].values())),
    }


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after}


def _process_tree(pid: int) -> list[int]:
    """pid and its descendants (the emulator's state process and its HTTP workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii")
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += [child for child, parent in parents.items() if parent == current]
    return tree


def emulator_memory(emu: EmulatorHandle, seeded: int) -> dict[str, Any]:
    """What the emulator holds now: resident and proportional set size of all its processes
    (Linux /proc; PSS counts a page shared by the processes once), and its profiles (seeded
    ones plus those /users/track created)."""
    rss_kb = pss_kb = 0
    per_process = []
    for pid in _process_tree(emu.pid) if emu.pid else []:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii")
        except OSError:
            continue
        fields = {
            line.split(":")[0]: int(line.split()[1])
            for line in rollup.splitlines()[1:]
            if line.endswith("kB")
        }
        rss_kb += fields.get("Rss", 0)
        pss_kb += fields.get("Pss", 0)
        per_process.append(round(fields.get("Rss", 0) / 1024, 1))
    created = int(emu.state(include="counters")["counters"]["profiles_created"])
    return {
        "profiles": seeded + created,
        "rss_mb": round(rss_kb / 1024, 1),
        "pss_mb": round(pss_kb / 1024, 1),
        "rss_mb_per_process": per_process,
    }


def _meminfo_mb(name: str) -> float:
    for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(name)


def dbt_memory_limit(people: int) -> dict[str, Any]:
    """DuckDB's memory limit for this size's dbt builds, beside the emulator that holds every
    profile for the whole cycle: the profile's default (PROFILE_MEMORY_SHARE of RAM), unless
    what is free when the size starts, less the emulator's projected memory and some headroom,
    is smaller (at 8x the emulator holds ~11 GB; beyond RAM the kernel's OOM killer, not
    DuckDB, would end the run); past the limit DuckDB spills to disk. AIQ_DBT_MEMORY_LIMIT in
    the environment wins."""
    emulator_mb = EMULATOR_BASE_MB + EMULATOR_MB_PER_PERSON * people
    available_mb = _meminfo_mb("MemAvailable")
    limit_mb = min(
        PROFILE_MEMORY_SHARE * _meminfo_mb("MemTotal"), available_mb - emulator_mb - HEADROOM_MB
    )
    return {
        "emulator_projected_mb": round(emulator_mb),
        "available_mb_at_start": round(available_mb),
        "limit": os.environ.get("AIQ_DBT_MEMORY_LIMIT") or f"{max(0, int(limit_mb))}MiB",
        "enough": bool(os.environ.get("AIQ_DBT_MEMORY_LIMIT")) or limit_mb >= MIN_DBT_MB,
    }


def _seed_profiles(emu: EmulatorHandle, landing: Path, day: int) -> int:
    """Braze assigns braze_ids: people known only by one already exist in Braze."""
    folder = landing / "attributes" / delivery_id(day)
    files = sorted(folder.glob("*.csv")) or sorted(folder.glob("*.parquet"))
    reader = "read_parquet" if files[0].suffix == ".parquet" else "read_csv"
    ids = [
        r[0]
        for r in duckdb.sql(
            f"select braze_id from {reader}({[str(f) for f in files]!r}) "
            "where external_id is null and braze_id is not null"
        ).fetchall()
    ]
    for i in range(0, len(ids), 20_000):
        emu.create_profiles([{"braze_id": b} for b in ids[i : i + 20_000]])
    return len(ids)


def _stage_row(name: str, result: StageResult, extra: dict[str, Any]) -> dict[str, Any]:
    row = {
        "stage": name,
        "returncode": result.returncode,
        "seconds": result.seconds,
        "peak_rss_mb": result.peak_rss_mb,
        **extra,
    }
    if not result.ok:
        row["error_tail"] = result.tail(15)
    return row


def run_cycle(plan: Plan, spec: ExtractSpec, scale: int, work: Path) -> dict[str, Any]:
    """initial, daily and nothing-new stages at one size; returns its measurements."""
    landing, db = work / "landing", work / "warehouse.duckdb"
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"scale": scale, "spec": asdict(spec), "stages": []}
    out["memory"] = dbt_memory_limit(spec.people)
    print(f"[bench]   memory: {out['memory']}", flush=True)
    if not out["memory"]["enough"]:
        m = out["memory"]
        out["failed"] = (
            f"not enough memory: the emulator needs ~{m['emulator_projected_mb']:,} MB for "
            f"{spec.people:,} people, {m['available_mb_at_start']:,} MB were available, which "
            f"leaves dbt less than {MIN_DBT_MB:,.0f} MB"
        )
        return out
    out["generate"] = [generate_day(landing, spec, 0)]
    env = {
        "AIQ_DBT_MEMORY_LIMIT": out["memory"]["limit"],
        "DUCKDB_PATH": str(db),
        "AIQ_LANDING_DIR": str(landing),
        "DBT_TARGET_PATH": str(work / "dbt-target"),
        "DBT_LOG_PATH": str(work / "dbt-logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    bin_dir = Path(sys.executable).parent
    dbt = [
        str(bin_dir / "dbt"),
        "build",
        "--profiles-dir",
        str(ROOT / "profiles"),
        "--project-dir",
        str(ROOT),
    ]
    sync = [sys.executable, "-m", "sync", "run"]
    with run_emulator(latency_ms=LATENCY_MS, config=EMULATOR_CONFIG) as emu:
        out["emulator_memory"] = [{"after": "start", **emulator_memory(emu, 0)}]
        out["seeded_profiles"] = _seed_profiles(emu, landing, 0)
        env |= {"BRAZE_REST_ENDPOINT": emu.base_url, "BRAZE_API_KEY": emu.api_key}
        for stage in ("initial", "daily", "nothing_new"):
            if stage == "daily" and scale == 1:
                _floor(landing, work / "floor.duckdb", setup=True)  # state = day 0's
            if stage == "daily":
                out["generate"].append(generate_day(landing, spec, 1))
            built = run_stage(dbt, env, ROOT, logs / f"{stage}-dbt.log", plan.stage_timeout_s)
            out["stages"].append(_stage_row(f"{stage}: dbt build", built, {}))
            if not built.ok:
                out["failed"] = f"dbt build failed at stage {stage}"
                break
            before = _counters(emu)
            synced = run_stage(sync, env, ROOT, logs / f"{stage}-sync.log", plan.stage_timeout_s)
            counts = _delta(_counters(emu), before)
            summary = synced.last_json() or {}
            out["stages"].append(
                _stage_row(f"{stage}: sync", synced, {**counts, "summary": summary})
            )
            memory = emulator_memory(emu, out["seeded_profiles"])
            out["emulator_memory"].append({"after": f"{stage}: sync", **memory})
            if synced.returncode not in (0, 3):
                out["failed"] = f"sync exited {synced.returncode} at stage {stage}"
                break
        out["emulator_log"] = emu.log_path
    if scale == 1 and not out.get("failed"):
        # the floor's day-0 state was recorded before day 1 landed; now diff day 1 against it
        floor_db = work / "floor.duckdb"
        floor = run_stage(
            [
                sys.executable,
                "-m",
                "bench.duckdb_floor",
                "--landing",
                str(landing),
                "--db",
                str(floor_db),
            ],
            None,
            ROOT,
            logs / "floor.log",
        )
        out["floor"] = _stage_row("DuckDB alone: read + diff", floor, floor.last_json() or {})
    return out


def _floor(landing: Path, db: Path, setup: bool) -> None:
    cmd = [sys.executable, "-m", "bench.duckdb_floor", "--landing", str(landing), "--db", str(db)]
    result = run_stage([*cmd, "--setup"] if setup else cmd, None, ROOT)
    if not result.ok:
        raise RuntimeError(f"duckdb floor setup failed:\n{result.tail()}")


def run_alternatives(plan: Plan, spec: ExtractSpec, work: Path) -> dict[str, Any]:
    """Full re-send of day 1 (computed) and braze-client loops over it (measured)."""
    landing = work / "landing"
    day = delivery_id(1)
    events = sorted((landing / "events").glob(f"events-{day}.*"))
    payloads = work / "full-resend.jsonl"
    workload = write_payloads(landing, day, events[0] if events else None, payloads)
    out: dict[str, Any] = {"full_resend": workload.as_dict(), "loops": []}
    try:
        client_python = braze_client_env.ensure()
    except Exception as exc:  # noqa: BLE001 - report the reason, keep the other results
        out["loops_error"] = f"could not build bench/.venv-braze-client: {exc}"
        return out
    for mode, budget in (
        ("sequential", plan.sequential_budget_s),
        ("threaded", plan.threaded_budget_s),
    ):
        with run_emulator(latency_ms=LATENCY_MS, config=EMULATOR_CONFIG) as emu:
            _seed_profiles(emu, landing, 1)
            env = {"BRAZE_REST_ENDPOINT": emu.base_url, "BRAZE_API_KEY": emu.api_key}
            before = _counters(emu)
            result = run_stage(
                [
                    str(client_python),
                    str(ROOT / "bench" / "braze_client_loop.py"),
                    "--payloads",
                    str(payloads),
                    "--mode",
                    mode,
                    "--workers",
                    str(plan.threads),
                    "--max-seconds",
                    str(budget),
                ],
                env,
                ROOT,
                work / "logs" / f"braze-client-{mode}.log",
            )
            counts = _delta(_counters(emu), before)
        loop = result.last_json() or {}
        row = _stage_row(f"braze-client {mode}", result, {**counts, "loop": loop})
        sent = max(1, int(loop.get("requests", 0)))
        row["complete"] = bool(loop.get("complete"))
        row["projected_seconds"] = round(
            float(loop.get("seconds", result.seconds)) * workload.requests / sent, 1
        )
        out["loops"].append(row)
    return out


def free_work_dir(work: Path) -> float:
    """Delete a measured size's data (landing dir, warehouses, dbt target), keep its logs.

    The sizes add up (1x-4x: over 40 GB), and 8x needs the room. Returns the GB freed.
    """
    freed = 0
    for child in work.iterdir() if work.exists() else []:
        if child.name == "logs":
            continue
        files = [child] if child.is_file() else [f for f in child.rglob("*") if f.is_file()]
        freed += sum(f.stat().st_size for f in files if not f.is_symlink())
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    return round(freed / 1e9, 1)


def machine_info(command: str) -> dict[str, Any]:
    import platform
    from importlib import metadata

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for pkg in ("dbt-core", "dbt-duckdb", "duckdb", "aiohttp"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    commit = "unknown"
    head = ROOT / ".git" / "HEAD"
    if head.exists():
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref_path = ROOT / ".git" / ref[5:]
            commit = ref_path.read_text().strip()[:12] if ref_path.exists() else "unknown"
        else:
            commit = ref[:12]
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": command,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "commit": commit,
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, under 10 minutes")
    p.add_argument("--out", default=str(ROOT / "bench" / "out"))
    p.add_argument("--doc", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument("--scales", type=int, nargs="+", help="override the sizes (multiples)")
    p.add_argument("--people", type=int, help="override the base number of people")
    p.add_argument("--note", help="a sentence printed under the run's machine line")
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the sizes already finished in <out>/results-<mode>.json (same base size) "
        "and run only the others: the full run can be done in parts",
    )
    p.add_argument(
        "--keep-work",
        action="store_true",
        help="keep each size's landing dir and warehouse (by default only its logs are kept once "
        "it is measured; a size that failed keeps everything)",
    )
    p.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        help="only re-render that results file into the doc (no measuring)",
    )
    args = p.parse_args(argv)
    if args.render:
        saved = json.loads(Path(args.render).read_text(encoding="utf-8"))
        if args.note:
            saved["note"] = args.note
            Path(args.render).write_text(json.dumps(saved, indent=2), encoding="utf-8")
        markdown = report.render(saved)
        print(markdown)
        if not args.no_doc:
            report.write_section(Path(args.doc), saved["mode"], markdown)
        return 0
    plan = QUICK if args.quick else FULL
    if args.scales:
        plan = replace(plan, scales=tuple(args.scales))
    if args.people:
        ratio = plan.base.events_per_day / plan.base.people
        plan = replace(
            plan,
            base=replace(
                plan.base, people=args.people, events_per_day=math.ceil(args.people * ratio)
            ),
        )
    command = "make bench-quick" if args.quick else "make bench"
    if args.scales or args.people:
        command = "python -m bench.run " + " ".join(argv or sys.argv[1:])
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    result_path = out_dir / f"results-{plan.mode}.json"
    work_root = out_dir / f"work-{plan.mode}"
    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": plan.mode,
        "machine": machine_info(command),
        "base": asdict(plan.base),
        "cycles": [],
        "note": args.note,
    }
    done: dict[int, dict[str, Any]] = {}
    if args.resume and result_path.exists():
        earlier = json.loads(result_path.read_text(encoding="utf-8"))
        if earlier.get("base") == results["base"]:
            done = {c["scale"]: c for c in earlier["cycles"] if not c.get("failed")}
            if earlier.get("alternatives") and plan.scales[0] in done:
                results["alternatives"] = earlier["alternatives"]
            results["resumed_from"] = earlier.get("resumed_from", []) + [earlier["machine"]]
    if not done:
        shutil.rmtree(work_root, ignore_errors=True)
    machine = results["machine"]
    for k in plan.scales:
        if k in done:
            print(f"[bench] {k}x: kept from the earlier run (--resume)", flush=True)
            results["cycles"].append(done[k])
            continue
        spec = _scaled(plan.base, k)
        print(
            f"[bench] {k}x: {spec.people:,} people, {spec.events_per_day:,} events/day", flush=True
        )
        shutil.rmtree(work_root / f"x{k}", ignore_errors=True)
        cycle = run_cycle(plan, spec, k, work_root / f"x{k}")
        cycle["measured"] = {key: machine[key] for key in ("date_utc", "commit", "load_average")}
        results["cycles"].append(cycle)
        for stage in cycle["stages"]:
            print(
                f"[bench]   {stage['stage']}: {stage['seconds']} s, "
                f"{stage['peak_rss_mb']} MB, rc={stage['returncode']}",
                flush=True,
            )
        if k == plan.scales[0] and not cycle.get("failed"):
            print("[bench] alternatives on the same day-1 data", flush=True)
            results["alternatives"] = run_alternatives(plan, spec, work_root / f"x{k}")
        if not args.keep_work and not cycle.get("failed"):
            cycle["work_freed_gb"] = free_work_dir(work_root / f"x{k}")
            print(f"[bench]   deleted its data ({cycle['work_freed_gb']} GB), kept its logs",
                  flush=True)
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        # Saved after every size, so that a run stopped midway keeps (and --resume reuses) it.
        result_path.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        if cycle.get("failed"):
            print(f"[bench]   FAILED: {cycle['failed']}", flush=True)
            break
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    result_path.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    markdown = report.render(results)
    print(markdown)
    if not args.no_doc:
        report.write_section(Path(args.doc), plan.mode, markdown)
    failed = any(c.get("failed") for c in results["cycles"])
    print(f"[bench] results: {result_path} ({results['total_seconds']} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
