"""Named scenarios: sequences of ActionIQ deliveries with a known truth after each step.

Each scenario is a list of Steps (see oracle.py). The braze_ids used here are 24 hex characters,
as Braze assigns them; the runner pre-creates those profiles in the emulator, because Braze never
creates a profile from a braze_id.
"""

from __future__ import annotations

from tests.reliability.oracle import Attributes, Events, Membership, Step

B1 = "65a1b2c3d4e5f60718293a4b"  # a person known first by braze_id only
B2 = "65a1b2c3d4e5f60718293a4c"  # a person ActionIQ always exports with both identifiers
B3 = "65a1b2c3d4e5f60718293a4d"  # braze_id only, forever

TYPES = {"ltv_tier": "string", "churn_score": "number", "is_vip": "boolean"}


def _event(eid: str, name: str, ext: str | None, bz: str | None = None, **extra) -> dict:
    event = {"event_id": eid, "event_name": name, "event_time": "2026-11-27T10:00:00Z"}
    if ext:
        event["external_id"] = ext
    if bz:
        event["braze_id"] = bz
    event.update(extra)
    return event


def daily_life() -> list[Step]:
    """Entries, exits, moves, empty and retired splits, identity changes, attribute changes and
    removals, duplicate, late and re-landed events, and a late membership delivery."""
    e1 = _event("ev-1", "viewed_offer", "alice", properties={"offer": 7, "tags": ["a", "b"]})
    e2 = _event("ev-2", "added_to_cart", None, B3, properties={"cart": {"items": 2}}, sku="S-1")
    e3 = _event("ev-3", "purchased", "bob", properties={"amount": 12.5, "first": True})
    e_late = _event("ev-4", "viewed_offer", "carol")
    e_late["event_time"] = "2026-11-01T08:00:00Z"
    return [
        Step(
            membership=[
                Membership(
                    "d1", "2026-11-26T06:00:00Z",
                    members=[
                        ("10", "1", "alice", None),
                        ("10", "1", "bob", B2),
                        ("10", "1", "bob", B2),  # duplicate row counts once
                        ("10", "2", None, B1),
                        ("10", "2", None, B3),
                        ("20", "0", "carol", None),
                        ("30", "0", "dan", None),
                    ],
                ),
            ],
            attributes=[
                Attributes(
                    "a1", "2026-11-26T06:00:00Z", TYPES,
                    rows=[
                        {"external_id": "alice", "ltv_tier": "gold", "churn_score": "0.25",
                         "is_vip": "true"},
                        {"external_id": "bob", "braze_id": B2, "ltv_tier": "silver"},
                        {"braze_id": B3, "is_vip": "false"},
                    ],
                ),
            ],
            events=[Events("ev-day1.jsonl", [e1, e2, e1])],
        ),
        Step(
            membership=[
                Membership(
                    "d2", "2026-11-27T06:00:00Z",
                    members=[
                        ("10", "1", "alice", None),
                        ("10", "2", "bob", B2),  # bob moves from split 1 to split 2
                        ("10", "2", "erin", B1),  # B1 gains an external_id: no exit, no re-entry
                        ("10", "2", None, B3),
                    ],
                    splits=[("30", "0")],  # listed with no rows: dan leaves
                ),
            ],
            attributes=[
                Attributes(
                    "a2", "2026-11-27T06:00:00Z", TYPES,
                    rows=[
                        {"external_id": "alice", "ltv_tier": "platinum", "churn_score": "0.25",
                         "is_vip": "true"},
                        # bob's ltv_tier is gone: removed from his profile (null)
                        {"external_id": "bob", "braze_id": B2, "churn_score": "3"},
                        {"braze_id": B3, "is_vip": "false"},
                    ],
                ),
            ],
            events=[Events("ev-day2.jsonl", [e3, e_late]), Events("ev-day1-again.jsonl", [e1, e2])],
        ),
        Step(
            membership=[
                # A delivery exported before d2 lands late: it must not override d2.
                Membership(
                    "d1b", "2026-11-26T18:00:00Z",
                    members=[("10", "1", "bob", B2), ("30", "0", "dan", None)],
                ),
                Membership(
                    "d3", "2026-11-28T06:00:00Z",
                    members=[("10", "2", "erin", B1)],
                    retired=[("20", "0")],  # carol's split is retired: cleared with false
                ),
            ],
        ),
    ]


# Profiles Braze holds before the first run: braze_id -> the external_id Braze knows (or None).
# B1 does not know "erin" yet: an update sent to external_id "erin" would create a second profile.
KNOWN_PROFILES = {B1: None, B2: "bob", B3: None}

def _daily_life() -> tuple[list[Step], dict[str, str | None]]:
    return daily_life(), KNOWN_PROFILES


SCENARIOS = {"daily_life": _daily_life}


def crowd(people: int = 1500, seed: int = 7) -> tuple[list[Step], dict[str, str | None]]:
    """A seeded crowd: three days of churn across four splits, attribute changes and removals,
    events with duplicates; a third of the people known by braze_id, some gaining an
    external_id on day two. Large enough (thousands of objects) for faults and kills to land
    mid-run."""
    import random

    rng = random.Random(seed)
    persons = []
    for i in range(people):
        bz = f"{0x6600000000000000000000 + i:024x}"
        kind = i % 3  # 0: external_id only, 1: both, 2: braze_id only (gains one on day 2)
        persons.append((i, None if kind == 2 else f"p{i}", bz if kind else None, kind))
    splits = [("500", "0"), ("500", "1"), ("501", "0"), ("502", "7")]
    # Braze knows the external_id of people exported with both from the start.
    known = {bz: (ext if kind == 1 else None) for _, ext, bz, kind in persons if bz}
    steps = []
    event_no = 0
    for day in range(3):
        members = []
        for i, ext, bz, kind in persons:
            if kind == 2 and day >= 1 and i % 2 == 0:
                ext = f"p{i}"  # ActionIQ learns the external_id; Braze's profile does not have it
            for split in splits:
                if rng.random() < 0.35:
                    members.append((*split, ext, bz))
        rows = []
        for _i, ext, bz, _kind in persons:
            if rng.random() < 0.8:
                row = {"external_id": ext, "braze_id": bz}
                row["ltv_tier"] = rng.choice(["gold", "silver", "bronze", None])
                row["churn_score"] = rng.choice(["0.1", "0.5", "2", None])
                rows.append(row)
        events = []
        for _ in range(people // 2):
            i, ext, bz, _ = persons[rng.randrange(people)]
            event_no += 1
            events.append(
                _event(f"c-{event_no}", rng.choice(["opened", "clicked"]), ext,
                       None if ext else bz, properties={"n": event_no})
            )
        events += rng.sample(events, k=len(events) // 10)  # duplicates within the file
        stamp = f"2026-11-{24 + day:02d}T06:00:00Z"
        steps.append(
            Step(
                membership=[Membership(f"m{day}", stamp, members=members, splits=splits)],
                attributes=[Attributes(f"a{day}", stamp,
                                       {"ltv_tier": "string", "churn_score": "number"}, rows)],
                events=[Events(f"crowd-{day}.jsonl", events)],
            )
        )
    return steps, known
