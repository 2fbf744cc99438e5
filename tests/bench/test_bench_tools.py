"""The benchmark's parts: stage measurement, the full re-send workload, the DuckDB floor, the
braze-client loop and the report writer. Real processes, real DuckDB, the real emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bench import braze_client_env, report
from bench.full_resend import MAX_OBJECTS, write_payloads
from bench.measure import run_stage
from braze_emulator.testing import run_emulator
from extracts.generator import ExtractSpec, delivery_id, generate_day

ROOT = Path(__file__).resolve().parents[2]
SPEC = ExtractSpec(people=600, splits=6, events_per_day=300, attributes=5, seed=3)


def test_run_stage_reports_exit_code_peak_memory_and_last_json(tmp_path: Path) -> None:
    code = "x = bytearray(200 * 1024 * 1024); print('log line'); print('{\"ok\": 1}')"
    result = run_stage([sys.executable, "-c", code], log=tmp_path / "stage.log")
    assert result.ok and result.last_json() == {"ok": 1}
    assert 200 < result.peak_rss_mb < 400
    assert "log line" in (tmp_path / "stage.log").read_text()
    failed = run_stage([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert failed.returncode == 3 and failed.last_json() is None
    killed = run_stage([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert killed.returncode == -9 and killed.seconds < 5


def test_run_stage_memory_is_the_childs_not_this_processs() -> None:
    ballast = bytearray(500 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: it is resident
    assert run_stage(["true"]).peak_rss_mb < 100
    del ballast


def _braze_only(landing: Path, day: int) -> list[str]:
    import duckdb

    return [
        r[0]
        for r in duckdb.sql(
            f"select braze_id from read_csv('{landing}/attributes/{delivery_id(day)}/*.csv', "
            "all_varchar = true) where external_id is null"
        ).fetchall()
    ]


def test_full_resend_bodies_cost_what_the_emulator_bills(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate_day(landing, SPEC, 0)
    event_file = landing / "events" / f"events-{delivery_id(0)}.csv"
    out = tmp_path / "bodies.jsonl"
    work = write_payloads(landing, delivery_id(0), event_file, out)
    assert work.people == 600 and work.events == 300
    assert work.data_points == 600 * (6 + 5) + 300
    bodies = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(bodies) == work.requests == -(-900 // MAX_OBJECTS)
    objects = [o for b in bodies for o in b.get("attributes", [])]
    assert len(objects) == 600
    for obj in objects:
        assert ("external_id" in obj) != ("braze_id" in obj)
        assert sum(k.startswith("AIQ_") for k in obj) == 6 and "ltv_tier" in obj
    assert all(len(b.get("attributes", [])) + len(b.get("events", [])) <= 75 for b in bodies)
    with run_emulator() as emu:
        emu.create_profiles([{"braze_id": b} for b in _braze_only(landing, 0)])
        with requests.Session() as s:
            s.headers["Authorization"] = f"Bearer {emu.api_key}"
            for body in bodies:
                r = s.post(f"{emu.base_url}/users/track", json=body, timeout=30)
                assert r.status_code == 201 and not r.json().get("errors"), r.text
        assert emu.state(include="data_points")["data_points"]["total"] == work.data_points


def _floor(landing: Path, db: Path, *extra: str) -> dict[str, object]:
    result = run_stage(
        [
            sys.executable,
            "-m",
            "bench.duckdb_floor",
            "--landing",
            str(landing),
            "--db",
            str(db),
            *extra,
        ],
        cwd=ROOT,
    )
    assert result.ok, result.tail()
    summary = result.last_json()
    assert summary is not None
    return summary


def test_duckdb_floor_diffs_a_new_day_and_finds_nothing_when_nothing_landed(
    tmp_path: Path,
) -> None:
    landing, db = tmp_path / "landing", tmp_path / "floor.duckdb"
    generate_day(landing, SPEC, 0)
    _floor(landing, db, "--setup")
    idle = _floor(landing, db)
    assert (idle["attribute_changes"], idle["new_events"]) == (0, 0)
    generate_day(landing, SPEC, 1)
    changed = _floor(landing, db)
    assert changed["new_events"] == 300
    # about 2% churn of ~20% members over 6 splits plus 2% of 5 attributes, for 600 people
    assert 10 < int(changed["attribute_changes"]) < 200  # type: ignore[call-overload]


@pytest.mark.skipif(
    not braze_client_env.python().exists(),
    reason="bench/.venv-braze-client not built (python bench/braze_client_env.py needs PyPI)",
)
def test_braze_client_loop_sends_every_body(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate_day(landing, SPEC, 0)
    out = tmp_path / "bodies.jsonl"
    work = write_payloads(landing, delivery_id(0), None, out)
    with run_emulator() as emu:
        emu.create_profiles([{"braze_id": b} for b in _braze_only(landing, 0)])
        env = {**os.environ, "BRAZE_API_KEY": emu.api_key, "BRAZE_REST_ENDPOINT": emu.base_url}
        proc = subprocess.run(
            [
                str(braze_client_env.python()),
                str(ROOT / "bench" / "braze_client_loop.py"),
                "--payloads",
                str(out),
                "--mode",
                "threaded",
                "--workers",
                "4",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        assert summary["requests"] == work.requests and summary["failed_requests"] == 0
        assert summary["complete"] and summary["object_errors"] == 0
        assert emu.state(include="data_points")["data_points"]["total"] == work.data_points
        assert emu.api_key not in proc.stdout + proc.stderr


def test_report_rewrites_only_its_own_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n<!-- bench:quick:start -->\nold\n<!-- bench:quick:end -->\n\n"
        "## Emulator throughput\n\nkept\n"
    )
    stage = {
        "returncode": 0,
        "seconds": 2.0,
        "peak_rss_mb": 100.0,
        "requests": 40,
        "data_points": 900,
        "responses_429": 0,
        "objects_rejected": 0,
    }
    results = {
        "total_seconds": 60.0,
        "base": {
            "people": 1000,
            "splits": 20,
            "churn": 0.02,
            "events_per_day": 500,
            "attributes": 5,
            "format": "csv",
            "seed": 42,
        },
        "machine": {
            "date_utc": "d",
            "command": "make bench-quick",
            "commit": "c",
            "cpu": "cpu",
            "cores": 2,
            "memory_gib": 24,
            "os": "linux",
            "python": "3.11",
            "versions": {"dbt-core": "1", "dbt-duckdb": "1", "duckdb": "2"},
        },
        "cycles": [
            {
                "scale": k,
                "spec": {"people": 1000 * k},
                "generate": [
                    {"seconds": 1.0},
                    {
                        "seconds": 1.0,
                        "membership_rows": 100 * k,
                        "attribute_rows": 10 * k,
                        "event_rows": 5 * k,
                    },
                ],
                "stages": [
                    {**stage, "stage": f"{s}: {t}"}
                    for s in ("initial", "daily", "nothing_new")
                    for t in ("dbt build", "sync")
                ],
                "emulator_memory": [
                    {"after": "start", "pss_mb": 25.0},
                    {"after": "daily: sync", "pss_mb": 700.0 * k},
                    {"after": "nothing_new: sync", "pss_mb": 650.0 * k},
                ],
            }
            for k in (1, 2)
        ],
    }
    report.write_section(doc, "quick", report.render(results))
    text = doc.read_text()
    assert "old" not in text and "## Emulator throughput\n\nkept" in text
    assert "| 2x | 2,000 | 230 |" in text and "20 requests/s" in text
    assert "emulator MB" in text and "| 100.0 | 1,400.0 | 40 |" in text  # sync MB, emulator
    report.write_section(doc, "full", "full tables")
    assert text in doc.read_text() and "<!-- bench:full:start -->\nfull tables" in doc.read_text()


def test_sync_throughput_braze_client_comparison_and_its_doc_block(tmp_path: Path) -> None:
    """The braze-client side of bench/sync_throughput.py on 300 changes (4 requests): both
    loops send the sync's bodies to fresh emulators, the ratios and the doc block follow."""
    import duckdb

    from bench import sync_throughput as st

    with duckdb.connect() as con:  # the bodies carry the keys build_warehouse writes
        assert con.execute("select 'user-' || lpad(7::varchar, 9, '0')").fetchone()[0] == (
            st.person_key(7)
        )
    out = st.run_braze_client(tmp_path, 300, 5.0, 30.0, 2)
    assert out["requests_total"] == 4 and len(out["loops"]) == 2, out
    for loop in out["loops"]:
        assert loop["requests"] == 4 and loop["complete"] and loop["failed_requests"] == 0, loop
        assert loop["emulator"] == {"requests": 4, "by_status": {"201": 4}, "data_points": 300}
        assert loop["projected_seconds"] == pytest.approx(loop["seconds"], abs=0.1)
    first = json.loads((tmp_path / "braze-client-bodies.jsonl").read_text().splitlines()[0])
    assert first["attributes"][0] == {"external_id": "user-000000000", "AIQ_1042_1": True}
    assert len(first["attributes"]) == 75

    result = {
        "summary": {"requests": 4, "attribute_changes_sent": 300, "timings": {"send_s": 0.1}},
        "sustained_requests_per_second": 40.0,
        "sustained_changes_per_second": 3000,
        "wall_seconds": 2.0,
        "sync_cpu_us_per_change": 20.0,
        "peak_rss_mb": 100.0,
        "exit_code": 0,
        "changes": 300,
        "server": "emulator",
        "latency_ms": 5.0,
        "machine": st.machine_info("test"),
        "load_average_before": (1.0, 1.0, 1.0),
        "load_average": (1.5, 1.0, 1.0),
        "command": "bench/sync_throughput.py --changes 300",
        "braze_client": out,
    }
    st.add_ratios(result)
    seq = out["loops"][0]
    assert seq["ratio_requests_per_second"] == round(40.0 / seq["requests_per_second"], 1)
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# B\nbefore\n{st.START}\nold figures\n{st.END}\nafter\n")
    st.write_doc(doc, result)
    text = doc.read_text()
    assert text.startswith("# B\nbefore\n<!-- sync-throughput:start -->\nLast run: ")
    assert text.endswith("<!-- sync-throughput:end -->\nafter\n") and "old figures" not in text
    assert "braze-client loop, one request after the other" in text
    assert "braze-client loop, thread pool of 2" in text


def test_bench_run_saves_each_size_and_resume_keeps_finished_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full run takes hours: each finished size is saved at once, and --resume reuses it.

    The cycles themselves are replaced by a recorder here (each takes minutes of dbt and sync);
    what is tested is the harness's bookkeeping around them.
    """
    from bench import run

    ran: list[int] = []

    def fake_cycle(plan, spec, scale, work):  # noqa: ANN001, ANN202
        ran.append(scale)
        for name in ("logs/daily-sync.log", "landing/membership/d1/part-0.csv"):
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text("x" * 1000)
        (work / "warehouse.duckdb").write_bytes(b"\0" * 5000)
        if scale == 4 and ran.count(4) == 1:
            return {"scale": scale, "spec": {}, "stages": [], "failed": "stopped on purpose"}
        return {"scale": scale, "spec": {}, "stages": [], "marker": f"run{len(ran)}"}

    monkeypatch.setattr(run, "run_cycle", fake_cycle)
    monkeypatch.setattr(run, "run_alternatives", lambda *a: {"loops": [], "from": "first"})
    monkeypatch.setattr(run.report, "render", lambda results: "table")
    out = tmp_path / "out"
    common = ["--quick", "--no-doc", "--out", str(out)]
    assert run.main([*common, "--scales", "1", "2", "4"]) == 1  # 4x failed
    saved = json.loads((out / "results-quick.json").read_text(encoding="utf-8"))
    assert [c["scale"] for c in saved["cycles"]] == [1, 2, 4]
    assert ran == [1, 2, 4]
    work = out / "work-quick"
    # A measured size keeps only its logs (the sizes add up to more than the disk); a failed
    # one keeps everything, to be looked at.
    for k in (1, 2):
        assert sorted(p.name for p in (work / f"x{k}").iterdir()) == ["logs"]
        assert (work / f"x{k}" / "logs" / "daily-sync.log").exists()
    assert saved["cycles"][0]["work_freed_gb"] == round(6000 / 1e9, 1)
    assert sorted(p.name for p in (work / "x4").iterdir()) == ["landing", "logs",
                                                             "warehouse.duckdb"]

    assert run.main([*common, "--scales", "1", "2", "4", "--resume"]) == 0
    assert ran == [1, 2, 4, 4]  # only the size that had not finished ran again
    resumed = json.loads((out / "results-quick.json").read_text(encoding="utf-8"))
    assert [c.get("marker") for c in resumed["cycles"]] == ["run1", "run2", "run4"]
    assert resumed["alternatives"]["from"] == "first"
    assert len(resumed["resumed_from"]) == 1
    # Without --resume everything runs again; --keep-work keeps the data.
    assert run.main([*common, "--scales", "1", "--keep-work"]) == 0
    assert ran[-1] == 1
    assert (work / "x1" / "warehouse.duckdb").exists()


def test_emulator_memory_counts_every_process_and_profile() -> None:
    """bench/run.py reads the emulator's memory after each sync (the 8x run's limit)."""
    from bench import run

    with run_emulator(config=run.EMULATOR_CONFIG) as emu:
        fresh = run.emulator_memory(emu, 0)
        emu.create_profiles([{"braze_id": f"{n:024x}"} for n in range(2000)])
        track = {"attributes": [{"external_id": f"u{n}", "AIQ_1_1": True} for n in range(75)]}
        answer = requests.post(
            f"{emu.base_url}/users/track", json=track, timeout=10,
            headers={"Authorization": f"Bearer {emu.api_key}"},
        )
        assert answer.status_code == 201, answer.text
        after = run.emulator_memory(emu, 2000)
    assert len(fresh["rss_mb_per_process"]) == 3  # the state process and its 2 HTTP workers
    assert fresh["profiles"] == 0 and after["profiles"] == 2075
    assert 0 < fresh["pss_mb"] <= fresh["rss_mb"] == pytest.approx(
        sum(fresh["rss_mb_per_process"]), abs=0.5
    )


def test_dbt_gets_what_the_emulator_leaves_and_a_size_that_cannot_fit_stops_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import run

    meminfo = {"MemTotal": 24_000.0, "MemAvailable": 23_000.0}
    monkeypatch.setattr(run, "_meminfo_mb", meminfo.__getitem__)
    monkeypatch.delenv("AIQ_DBT_MEMORY_LIMIT", raising=False)
    assert run.dbt_memory_limit(1_000_000)["limit"] == "6000MiB"  # the profile's 25%
    eight = run.dbt_memory_limit(8_000_000)
    assert eight["emulator_projected_mb"] == 11_610 and eight["enough"]
    assert eight["limit"] == "6000MiB"  # 23,000 - 11,610 - headroom still leaves more
    meminfo["MemAvailable"] = 17_000.0  # less free: what the emulator leaves decides
    left = int(17_000 - 11_610 - run.HEADROOM_MB)
    assert run.dbt_memory_limit(8_000_000)["limit"] == f"{left}MiB"
    meminfo["MemAvailable"] = 12_000.0  # another job holds half the machine
    monkeypatch.setattr(run, "generate_day", lambda *a: pytest.fail("started anyway"))
    cycle = run.run_cycle(run.FULL, run._scaled(run.FULL.base, 8), 8, tmp_path)
    assert "not enough memory" in cycle["failed"] and "11,610 MB" in cycle["failed"]
    assert cycle["stages"] == [] and not cycle["memory"]["enough"]
    monkeypatch.setenv("AIQ_DBT_MEMORY_LIMIT", "20GB")  # the operator's choice wins
    assert run.dbt_memory_limit(8_000_000) == {**run.dbt_memory_limit(8_000_000),
                                               "limit": "20GB", "enough": True}
