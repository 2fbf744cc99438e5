"""`make demo`: the main job end to end on a small sample, against the local Braze emulator.

1. Writes a small sample of ActionIQ extracts (spec layout) under data/demo/landing, once.
2. Starts the Braze emulator on 127.0.0.1. The emulator keeps its state in memory only, so the
   demo saves what it holds at the end (data/demo/braze_snapshot.json) and restores those
   profiles at the next start: a second demo run talks to the same "Braze" as the first.
3. Runs the main job exactly as an orchestrator would: `dbt build --profiles-dir profiles`, then
   `python -m sync run`, with the settings in the environment.
4. Prints what Braze holds (profiles, attribute values, events) and stops the emulator.

Run it twice: the second run sends nothing, because nothing changed.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from braze_emulator.testing import run_emulator  # noqa: E402
from extracts import (  # noqa: E402
    write_attributes_delivery,
    write_events_file,
    write_membership_delivery,
)

DEMO = ROOT / "data" / "demo"
LANDING = DEMO / "landing"
WAREHOUSE = DEMO / "warehouse.duckdb"
SNAPSHOT = DEMO / "braze_snapshot.json"

# Profiles Braze already has, by the braze_id it assigned: one anonymous (used the app, never
# logged in; ActionIQ exports it with its braze_id alone), one that also carries an external_id.
KNOWN_BRAZE_IDS = ["5f1c0a2b3c4d5e6f7a8b9c0d", "5f1c0a2b3c4d5e6f7a8b9c0e"]
KNOWN_EXTERNAL_IDS = {KNOWN_BRAZE_IDS[1]: "dee@example"}


def write_sample(landing: Path) -> None:
    ada, bob, cy, dee = "ada@example", "bob@example", "cy@example", "dee@example"
    write_membership_delivery(
        landing,
        "20261127T060000Z",
        "2026-11-27T06:00:00Z",
        members=[
            ("1042", "1", ada, None),
            ("1042", "1", bob, None),
            ("1042", "2", cy, None),
            ("1042", "2", None, KNOWN_BRAZE_IDS[0]),
            ("77", "0", dee, KNOWN_BRAZE_IDS[1]),
        ],
    )
    # The next day: bob leaves 1042/1, dee enters it, split 77/0 is now empty.
    write_membership_delivery(
        landing,
        "20261128T060000Z",
        "2026-11-28T06:00:00Z",
        members=[
            ("1042", "1", ada, None),
            ("1042", "1", dee, KNOWN_BRAZE_IDS[1]),
            ("1042", "2", cy, None),
            ("1042", "2", None, KNOWN_BRAZE_IDS[0]),
        ],
        splits=[("77", "0")],
    )
    write_attributes_delivery(
        landing,
        "20261128T060000Z",
        "2026-11-28T06:00:00Z",
        attributes={
            "ltv_tier": "string",
            "churn_score": "number",
            "is_vip": "boolean",
            "last_order_at": "time",
        },
        rows=[
            {"external_id": ada, "ltv_tier": "gold", "churn_score": "0.12", "is_vip": "true",
             "last_order_at": "2026-11-20T10:15:00Z"},
            {"external_id": bob, "ltv_tier": "silver", "churn_score": "0.4", "is_vip": "false"},
            {"braze_id": KNOWN_BRAZE_IDS[0], "ltv_tier": "bronze"},
        ],
    )
    write_events_file(
        landing,
        "events-20261128.jsonl",
        [
            {"event_id": "e-1", "event_name": "added_to_cart", "external_id": ada,
             "event_time": "2026-11-28T05:01:00Z", "properties": {"sku": "A-1", "price": 19.9},
             "channel": "web"},
            {"event_id": "e-2", "event_name": "viewed_offer", "braze_id": KNOWN_BRAZE_IDS[0],
             "event_time": "2026-11-28T05:02:00", "properties": {"offer": {"id": 7}}},
            # The same event landed twice: Braze must receive it once.
            {"event_id": "e-1", "event_name": "added_to_cart", "external_id": ada,
             "event_time": "2026-11-28T05:01:00Z", "properties": {"sku": "A-1", "price": 19.9},
             "channel": "web"},
        ],
    )


def run(cmd: list[str], env: dict[str, str]) -> None:
    print(f"\n$ {' '.join(cmd)}", flush=True)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def restore(braze, snapshot: dict) -> None:
    """Re-create the profiles "Braze" held at the end of the previous demo run (not billed)."""
    profiles = []
    for p in snapshot.get("profiles", []):
        spec = {"braze_id": p["braze_id"], "custom_attributes": p.get("custom_attributes") or {}}
        if p.get("external_id"):
            spec["external_id"] = p["external_id"]
        profiles.append(spec)
    known = {p["braze_id"] for p in profiles}
    for braze_id in KNOWN_BRAZE_IDS:
        if braze_id not in known:
            spec = {"braze_id": braze_id}
            if braze_id in KNOWN_EXTERNAL_IDS:
                spec["external_id"] = KNOWN_EXTERNAL_IDS[braze_id]
            profiles.append(spec)
    braze.create_profiles(profiles)


def show(state: dict, earlier_events: list[dict]) -> None:
    print("\nWhat Braze (the emulator) holds now:")
    for profile in sorted(state["profiles"], key=lambda p: (p.get("external_id") or "",
                                                            p["braze_id"])):
        who = profile.get("external_id") or f"braze_id {profile['braze_id']}"
        attrs = profile.get("custom_attributes") or {}
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(attrs.items())) or "(no attributes)"
        print(f"  {who}: {shown}")
    events = earlier_events + state.get("events", [])
    print(f"  custom events: {len(events)} ({len(state.get('events', []))} sent by this run)")
    for event in events:
        who = event.get("external_id") or f"braze_id {event.get('braze_id')}"
        print(f"    {event['name']} for {who} at {event['time']}: {event.get('properties') or {}}")
    counters = state["counters"]
    print(
        f"  this run: {counters['requests']} requests to Braze, "
        f"{state['data_points']['total']} data points billed"
    )


def main() -> int:
    DEMO.mkdir(parents=True, exist_ok=True)
    if not LANDING.exists():
        write_sample(LANDING)
        print(f"Wrote sample ActionIQ extracts under {LANDING.relative_to(ROOT)}")
    snapshot = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    api_key = secrets.token_hex(16)
    with run_emulator(api_key=api_key) as braze:
        restore(braze, snapshot)
        env = {
            **os.environ,
            "AIQ_LANDING_DIR": str(LANDING),
            "DUCKDB_PATH": str(WAREHOUSE),
            "BRAZE_REST_ENDPOINT": braze.base_url,
            "BRAZE_API_KEY": api_key,
        }
        bindir = Path(sys.executable).parent
        run([str(bindir / "dbt"), "build", "--profiles-dir", "profiles"], env)
        run([sys.executable, "-m", "sync", "run"], env)
        state = braze.state()
        earlier = snapshot.get("events", [])
        show(state, earlier)
        SNAPSHOT.write_text(json.dumps(
            {"profiles": state["profiles"], "events": earlier + state.get("events", [])},
            indent=1, default=str,
        ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
