"""Bad input through the whole main job: each case gets its clear error or its rejected-row
record, and nothing else is lost or half-applied (Braze receives nothing of an invalid delivery,
and everything valid once the input is fixed)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import duckdb

from extracts import write_attributes_delivery, write_events_file, write_membership_delivery
from tests.pipeline import last_json_line


def held(emulator) -> dict[str, dict]:
    return {
        p.get("external_id") or p["braze_id"]: p.get("custom_attributes") or {}
        for p in emulator.state()["profiles"]
    }


def rejected(pipeline) -> list[tuple]:
    with duckdb.connect(str(pipeline.warehouse), read_only=True) as con:
        return con.execute(
            "select stream, source_id, coalesce(external_id, braze_id), "
            "coalesce(attribute_name, event_id), reason from rejected_rows order by all"
        ).fetchall()


def test_invalid_delivery_reaches_nothing_then_recovers(pipeline, emulator):
    land = pipeline.landing
    write_membership_delivery(land, "d1", "2026-11-26T06:00:00Z",
                              [("7", "1", "u1", None), ("7", "1", "u2", None)])
    pipeline.cycle()
    before = emulator.state()
    # A truncated delivery: the manifest says 3 rows for 7/1, the files hold 1.
    write_membership_delivery(land, "d2", "2026-11-27T06:00:00Z", [("7", "1", "u3", None)],
                              member_counts={("7", "1"): 3})
    build = pipeline.build(check=False)
    assert build.returncode != 0
    assert "d2" in build.stdout and "7/1" in build.stdout
    assert "3" in build.stdout and "1 rows" in build.stdout
    # An orchestrator that runs the sync anyway sends nothing of it.
    summary = last_json_line(pipeline.sync("run").stdout)
    assert summary["requests"] == 0
    assert emulator.state()["counters"]["requests"] == before["counters"]["requests"]
    assert held(emulator) == {"u1": {"AIQ_7_1": True}, "u2": {"AIQ_7_1": True}}
    # ActionIQ re-delivers it whole: the bad one is removed, the good one applies exactly.
    shutil.rmtree(land / "membership" / "d2")
    write_membership_delivery(land, "d2b", "2026-11-27T06:00:00Z",
                              [("7", "1", "u3", None), ("7", "1", "u1", None)])
    pipeline.cycle()
    assert held(emulator) == {
        "u1": {"AIQ_7_1": True}, "u2": {"AIQ_7_1": False}, "u3": {"AIQ_7_1": True}
    }


def test_invalid_rows_are_recorded_and_the_rest_is_delivered(pipeline, emulator):
    land = pipeline.landing
    write_membership_delivery(land, "m1", "2026-11-27T06:00:00Z", [
        ("7", "1", "ok1", None),
        ("7", "1", None, "not-a-braze-id"),       # invalid identifier
        ("7", "1", None, None),                   # no identifier at all
        ("7", "1", "x" * 988, None),              # external_id over 987 bytes
    ])
    write_attributes_delivery(land, "a1", "2026-11-27T06:00:00Z",
                              {"score": "number", "tier": "string", "seen_at": "time"}, [
        {"external_id": "ok1", "score": "1.5", "tier": "gold", "seen_at": "2026-11-01T00:00:00Z"},
        {"external_id": "ok2", "score": "lots"},            # wrong type
        {"external_id": "ok3", "tier": "t" * 256},          # over 255 characters
        {"external_id": "ok4", "seen_at": "yesterday"},     # bad timestamp
    ])
    good = {"event_id": "g1", "event_name": "fine", "external_id": "ok1",
            "event_time": "2026-11-27T06:00:00Z", "properties": {"a": 1}}
    write_events_file(land, "e.jsonl", [
        good,
        {**good, "event_id": "b1", "event_time": "not a time"},
        {**good, "event_id": "b2", "properties": {"time": "x"}},         # reserved key
        {**good, "event_id": "b3", "properties": {"$price": 1}},         # leading $
        {**good, "event_id": "b4", "event_name": "n" * 256},             # name too long
        {**good, "event_id": "b5", "external_id": None},                 # no identifier
        {k: v for k, v in good.items() if k != "event_time"} | {"event_id": "b6"},
    ])
    pipeline.cycle()
    assert held(emulator) == {
        "ok1": {"AIQ_7_1": True, "score": 1.5, "tier": "gold",
                "seen_at": held(emulator)["ok1"].get("seen_at")},
    }
    assert held(emulator)["ok1"]["seen_at"].startswith("2026-11-01T00:00:00")
    assert [e["name"] for e in emulator.state()["events"]] == ["fine"]
    rows = rejected(pipeline)
    assert len(rows) == 3 + 3 + 6, rows
    for _, _, _, _, reason in rows:
        assert reason  # every record says why
    assert {r[3] for r in rows if r[0] == "events"} == {"b1", "b2", "b3", "b4", "b5", "b6"}
    assert {r[2] for r in rows if r[0] == "attributes"} == {"ok2", "ok3", "ok4"}


def test_malformed_csv_fails_the_build_naming_the_file(pipeline, emulator):
    land = pipeline.landing
    folder = land / "membership" / "m1"
    folder.mkdir(parents=True)
    (folder / "part-0.csv").write_text(
        'audience_id,split_id,external_id,braze_id\n7,1,u1,\n7,1,"u2,\n'
    )
    (folder / "manifest.json").write_text(json.dumps({
        "delivery_id": "m1", "exported_at": "2026-11-27T06:00:00Z",
        "audiences": [{"audience_id": "7", "split_id": "1", "member_count": 2}], "retired": [],
    }))
    build = pipeline.build(check=False)
    assert build.returncode != 0 and "part-0.csv" in build.stdout
    # No build ever succeeded on this warehouse: the sync refuses clearly, sending nothing.
    sync = pipeline.sync("run", check=False)
    assert sync.returncode == 6 and "dbt build" in sync.stderr
    assert emulator.state()["counters"]["requests"] == 0


def _jsonl_event(event_id: str, user: str) -> str:
    return json.dumps({"event_id": event_id, "event_name": "x", "external_id": user,
                       "event_time": "2026-11-27T06:00:00Z", "properties": {"n": 1}})


def test_malformed_jsonl_lines_are_rejected_and_the_rest_delivered_once(pipeline, emulator):
    events = pipeline.landing / "events"
    events.mkdir()
    # Line 2: not JSON; line 3: blank (skipped, still counted); line 4: JSON but not an object;
    # line 6: truncated object; CRLF on line 5. Lines 1, 5 and 7 are valid events.
    (events / "e.jsonl").write_text(
        _jsonl_event("a", "u1") + "\n"
        + '{"event_id": "b", broken\n'
        + "\n"
        + '["not", "an", "object"]\n'
        + _jsonl_event("c", "u2") + "\r\n"
        + '{"event_id": "d", "event_name": "x"\n'
        + _jsonl_event("e", "u1") + "\n"
    )
    summary = pipeline.cycle()
    assert summary["requests"] >= 1

    def delivered() -> list[tuple[str, str]]:
        return sorted((e["external_id"], e["name"]) for e in emulator.state()["events"])

    expected = [("u1", "x"), ("u1", "x"), ("u2", "x")]
    assert delivered() == expected, emulator.state()["events"]
    rows = [r for r in rejected(pipeline) if r[0] == "events"]
    assert rows == [
        ("events", "e.jsonl", None, None, "line 4 is not a JSON object"),
        ("events", "e.jsonl", None, None, "malformed JSON on line 2"),
        ("events", "e.jsonl", None, None, "malformed JSON on line 6"),
    ], rows
    # Files never change once complete: a second cycle re-sends nothing and reports each
    # rejected line once, unchanged.
    requests = emulator.state()["counters"]["requests"]
    summary = pipeline.cycle()
    assert summary["requests"] == 0
    assert emulator.state()["counters"]["requests"] == requests
    assert delivered() == expected
    assert [r for r in rejected(pipeline) if r[0] == "events"] == rows


def test_guard_stops_a_mass_exit_unless_allowed(pipeline, emulator):
    land = pipeline.landing
    members = [("7", "1", f"u{i}", None) for i in range(6)]
    write_membership_delivery(land, "m1", "2026-11-26T06:00:00Z", members)
    small_guard = ["--vars", '{"aiq_guard_min_split_size": 5}']
    pipeline.build(*small_guard)
    pipeline.sync("run")
    write_membership_delivery(land, "m2", "2026-11-27T06:00:00Z", [], splits=[("7", "1")])
    build = pipeline.build(*small_guard, check=False)
    assert build.returncode != 0 and "assert_no_split_loses_too_many_members" in build.stdout
    assert last_json_line(pipeline.sync("run").stdout)["requests"] == 0
    assert all(v == {"AIQ_7_1": True} for v in held(emulator).values())
    allowed = ["--vars", '{"aiq_guard_min_split_size": 5, "aiq_guard_allow_deliveries": ["m2"]}']
    pipeline.build(*allowed)
    pipeline.sync("run")
    assert all(v == {"AIQ_7_1": False} for v in held(emulator).values())
    assert len(held(emulator)) == 6


def test_locked_warehouse_is_a_clear_error_and_loses_nothing(pipeline, emulator):
    write_membership_delivery(pipeline.landing, "m1", "2026-11-27T06:00:00Z",
                              [("7", "1", "u1", None)])
    pipeline.build()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True);"
         " time.sleep(120)", str(pipeline.warehouse)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        proc = pipeline.sync("run", check=False)
        assert proc.returncode == 6, (proc.returncode, proc.stderr[-2000:])
        assert str(pipeline.warehouse) in proc.stdout + proc.stderr
        assert emulator.state()["counters"]["requests"] == 0
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.2)
    pipeline.sync("run")
    assert held(emulator) == {"u1": {"AIQ_7_1": True}}


def test_a_delivery_without_its_manifest_waits(pipeline, emulator):
    write_membership_delivery(pipeline.landing, "m1", "2026-11-27T06:00:00Z",
                              [("7", "1", "u1", None)], write_manifest=False)
    pipeline.cycle()
    assert emulator.state()["counters"]["requests"] == 0
    write_membership_delivery(pipeline.landing, "m1", "2026-11-27T06:00:00Z",
                              [("7", "1", "u1", None)])
    pipeline.cycle()
    assert held(emulator) == {"u1": {"AIQ_7_1": True}}


def test_a_missing_landing_dir_fails_the_build_naming_the_setting(pipeline, emulator, tmp_path):
    write_membership_delivery(pipeline.landing, "m1", "2026-11-27T06:00:00Z",
                              [("7", "1", "u1", None)])
    pipeline.cycle()
    # A misconfigured path must not read as "no deliveries".
    pipeline.landing = tmp_path / "no-such-folder"
    build = pipeline.build(check=False)
    assert build.returncode != 0
    assert "AIQ_LANDING_DIR" in build.stdout and "no-such-folder" in build.stdout
    assert held(emulator) == {"u1": {"AIQ_7_1": True}}
