"""The benchmark's extract generator writes the spec's layout, deterministically from a seed."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from extracts.generator import (
    ExtractSpec,
    attribute_columns,
    delivery_id,
    generate,
    generate_day,
    split_keys,
)

MEMBER_COLUMNS = ["audience_id", "split_id", "external_id", "braze_id"]
EVENT_COLUMNS = ["event_id", "event_name", "external_id", "braze_id", "event_time"]
HEX24 = re.compile(r"^[0-9a-f]{24}$")


def _read(path_glob: str) -> duckdb.DuckDBPyRelation:
    if path_glob.endswith(".parquet"):
        return duckdb.sql(f"select * from read_parquet('{path_glob}')")
    return duckdb.sql(f"select * from read_csv('{path_glob}', all_varchar = true, header = true)")


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_layout_manifests_and_counts_match_the_spec(tmp_path: Path, fmt: str) -> None:
    spec = ExtractSpec(
        people=3000, splits=6, events_per_day=400, attributes=5, format=fmt, rows_per_file=2500
    )
    stats = generate_day(tmp_path, spec, 0)
    did = delivery_id(0)

    names = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert not [n for n in names if n.startswith(("_", ".")) or n.endswith(".tmp")]

    manifest = json.loads((tmp_path / "membership" / did / "manifest.json").read_text())
    assert manifest["delivery_id"] == did and manifest["exported_at"] == "2026-11-01T06:00:00Z"
    assert manifest["retired"] == []
    listed = {(a["audience_id"], a["split_id"]): a["member_count"] for a in manifest["audiences"]}
    assert list(listed) == split_keys(spec)
    members = _read(str(tmp_path / "membership" / did / f"*.{fmt}"))
    assert members.columns == MEMBER_COLUMNS
    counted = dict(
        ((a, s), n) for a, s, n in members.aggregate("audience_id, split_id, count(*)").fetchall()
    )
    assert counted == {k: v for k, v in listed.items() if v}  # no unlisted split has rows
    assert sum(listed.values()) == stats["membership_rows"] > spec.people * 6 * 0.02
    # several parts, because rows_per_file is below the row count
    assert len(list((tmp_path / "membership" / did).glob(f"part-*.{fmt}"))) > 1
    for a, s in listed:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", a) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", s)

    amanifest = json.loads((tmp_path / "attributes" / did / "manifest.json").read_text())
    assert amanifest["attributes"] == attribute_columns(spec)
    assert set(amanifest["attributes"].values()) == {"string", "number", "boolean", "time"}
    attrs = _read(str(tmp_path / "attributes" / did / f"*.{fmt}"))
    assert attrs.columns == ["external_id", "braze_id", *amanifest["attributes"]]
    assert attrs.count("*").fetchall()[0][0] == amanifest["row_count"] == spec.people
    times = attrs.filter("last_order_at is not null").project("last_order_at").fetchall()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t[0]) for t in times)
    empty = attrs.filter("ltv_tier is null").count("*").fetchall()[0][0]
    assert 0.01 * spec.people < empty < 0.10 * spec.people

    events = _read(str(tmp_path / "events" / f"events-{did}.{fmt}"))
    assert events.columns[:5] == EVENT_COLUMNS
    n, distinct = events.aggregate("count(*), count(distinct event_id)").fetchall()[0]
    assert n == distinct == 400


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    spec = ExtractSpec(people=1500, splits=4, events_per_day=200, attributes=4)
    generate(tmp_path / "a", spec, [0, 1])
    # days are independent: day 1 alone gives the same files as day 1 after day 0
    generate(tmp_path / "b", spec, [1])
    generate(tmp_path / "b", spec, [0])
    generate(tmp_path / "c", ExtractSpec(**{**spec.__dict__, "seed": 7}), [0, 1])
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_identity_mix_and_daily_churn(tmp_path: Path) -> None:
    spec = ExtractSpec(
        people=20000, splits=5, churn=0.02, events_per_day=2000, attributes=1, identify_rate=0.01
    )
    generate(tmp_path, spec, [0, 1, 5])
    con = duckdb.connect()
    attrs = {
        d: f"read_csv('{tmp_path}/attributes/{delivery_id(d)}/*.csv', all_varchar = true)"
        for d in (0, 1, 5)
    }
    only_b, only_e, both, neither, bad_hex = con.execute(
        f"""select count(*) filter (where external_id is null and braze_id is not null),
                   count(*) filter (where braze_id is null and external_id is not null),
                   count(*) filter (where braze_id is not null and external_id is not null),
                   count(*) filter (where braze_id is null and external_id is null),
                   count(*) filter (where not regexp_full_match(braze_id, '[0-9a-f]{{24}}'))
            from {attrs[0]}"""
    ).fetchone()
    assert neither == 0 and bad_hex == 0
    assert 0.08 < only_b / spec.people < 0.12 and 0.08 < only_e / spec.people < 0.12
    assert both > 0.75 * spec.people
    # some braze_id-only people are later seen with both identifiers, same braze_id
    identified = con.execute(
        f"""select count(*) from {attrs[0]} d0 join {attrs[5]} d5 using (braze_id)
            where d0.external_id is null and d5.external_id is not null"""
    ).fetchone()[0]
    assert 0.03 * spec.people < identified < 0.07 * spec.people
    assert (
        con.execute(
            f"select count(*) from {attrs[5]} where braze_id is null and external_id is null"
        ).fetchone()[0]
        == 0
    )

    def members(day: int) -> str:
        return f"""(select audience_id, split_id, coalesce(braze_id, external_id) as person
                    from read_csv('{tmp_path}/membership/{delivery_id(day)}/*.csv',
                                  all_varchar = true))"""

    # person key: braze_id when present; external_id-only people never gain a braze_id
    d0, d1 = members(0), members(1)
    n0 = con.execute(f"select count(*) from {d0}").fetchone()[0]
    exits = con.execute(f"select count(*) from (select * from {d0} except select * from {d1})")
    exits = exits.fetchone()[0]
    entries = con.execute(f"select count(*) from (select * from {d1} except select * from {d0})")
    entries = entries.fetchone()[0]
    assert 0.015 < exits / n0 < 0.025, (exits, n0)
    assert 0.015 < entries / n0 < 0.025, (entries, n0)
    changed = con.execute(
        f"""select count(*) from {attrs[0]} d0 join {attrs[1]} d1 using (braze_id)
            where d0.ltv_tier is distinct from d1.ltv_tier"""
    ).fetchone()[0]
    assert 0.005 * spec.people < changed < 0.03 * spec.people
    e0 = f"read_csv('{tmp_path}/events/events-{delivery_id(0)}.csv', all_varchar = true)"
    e1 = f"read_csv('{tmp_path}/events/events-{delivery_id(1)}.csv', all_varchar = true)"
    assert con.execute(f"select count(*) from {e0} join {e1} using (event_id)").fetchone()[0] == 0


def test_jsonl_events_carry_a_properties_object(tmp_path: Path) -> None:
    spec = ExtractSpec(people=100, splits=0, attributes=0, events_per_day=50, events_format="jsonl")
    stats = generate_day(tmp_path, spec, 3)
    assert stats["membership_rows"] == 0 and not (tmp_path / "membership").exists()
    lines = (tmp_path / "events" / f"events-{delivery_id(3)}.jsonl").read_text().splitlines()
    assert len(lines) == 50
    first = json.loads(lines[0])
    assert set(first) == {*EVENT_COLUMNS, "properties"}
    assert set(first["properties"]) == {"channel", "order_value"}
    times = sorted(json.loads(line)["event_time"] for line in lines)
    assert "2026-11-03T06:00:00Z" <= times[0] <= times[-1] < "2026-11-04T06:00:00Z"


@pytest.mark.parametrize(
    "bad",
    [{"people": 0}, {"churn": 1.5}, {"format": "xlsx"}, {"braze_only": 0.6, "external_only": 0.6}],
)
def test_bad_spec_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ExtractSpec(**bad)
