"""The one writer of generated doc sections (bench/report.py replace_between_markers) and the
five commands that use it: each rewrites only the text between its own markers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import report
from bench.report import MarkerError, replace_between_markers

START, END = "<!-- x:start -->", "<!-- x:end -->"


def test_replaces_only_the_text_between_the_first_pair_of_markers(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"# T\nbefore\n{START}\nold\nlines\n{END}\nafter\n{END}\n", encoding="utf-8")
    replace_between_markers(doc, START, END, "new\ntext")
    assert doc.read_text() == f"# T\nbefore\n{START}\nnew\ntext\n{END}\nafter\n{END}\n"
    replace_between_markers(doc, START, END, "again")  # idempotent in shape: one block
    assert doc.read_text() == f"# T\nbefore\n{START}\nagain\n{END}\nafter\n{END}\n"


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("# T\nno markers\n", START),
        (f"# T\n{END}\nend only\n", START),
        (f"# T\n{START}\nstart only\n", END),
        (f"# T\n{END}\n{START}\nend before start\n", END),
    ],
)
def test_a_missing_marker_names_the_file_and_the_marker_and_writes_nothing(
    tmp_path: Path, text: str, missing: str
) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(text, encoding="utf-8")
    with pytest.raises(MarkerError) as raised:
        replace_between_markers(doc, START, END, "new")
    assert str(doc) in str(raised.value) and repr(missing) in str(raised.value)
    assert doc.read_text() == text
    if missing == END or END in text:  # a stray marker: even the append option refuses
        with pytest.raises(MarkerError):
            replace_between_markers(doc, START, END, "new", new_section_heading="## X")
        assert doc.read_text() == text


def test_the_append_option_adds_a_missing_section_once(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("# T\n\nkept\n\n\n", encoding="utf-8")
    replace_between_markers(doc, START, END, "first", new_section_heading="## X")
    assert doc.read_text() == f"# T\n\nkept\n\n## X\n\n{START}\nfirst\n{END}\n"
    replace_between_markers(doc, START, END, "second", new_section_heading="## X")
    assert doc.read_text() == f"# T\n\nkept\n\n## X\n\n{START}\nsecond\n{END}\n"


def test_bench_run_section_creates_the_doc_and_refuses_a_stray_marker(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    report.write_section(doc, "quick", "tables")
    assert doc.read_text() == (
        "# Benchmarks\n\n## Results: `make bench-quick`\n\n"
        "<!-- bench:quick:start -->\ntables\n<!-- bench:quick:end -->\n"
    )
    doc.write_text("# B\n<!-- bench:full:start -->\nhalf a section\n", encoding="utf-8")
    with pytest.raises(MarkerError, match="bench:full:end"):
        report.write_section(doc, "full", "tables")


def _one_block(text: str, start: str, end: str) -> str:
    """The text between the markers, checking each marker stands exactly once."""
    assert text.count(start) == 1 and text.count(end) == 1, text
    return text.split(start, 1)[1].split(end, 1)[0]


def test_emulator_throughput_writes_its_block_once(tmp_path: Path) -> None:
    from bench import emulator_throughput as et

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# B\n{et.START}\nold\n{et.END}\nafter\n", encoding="utf-8")
    result = {
        "workers": None, "client": "wrk", "cpus": 2, "requests_per_second": 1500.0,
        "objects_per_second": 112500.0, "seconds": 10.0, "requests": 15000, "statuses": {},
        "emulator_cpu_ms_per_request": 1.0, "machine_busy_percent": 90.0,
        "scheduling_group": "nice 0", "data_points": 42,
    }
    et.write_doc(str(doc), result, "--seconds 10")
    text = doc.read_text()
    inside = _one_block(text, et.START, et.END)
    assert inside.startswith("\nLast run: ") and "| requests per second" in inside
    assert "old" not in text and text.startswith("# B\n") and text.endswith(f"{et.END}\nafter\n")
    doc.write_text(f"# B\n{et.START}\nno end marker: the old code dropped the rest\n")
    with pytest.raises(MarkerError, match="emulator-throughput:end"):
        et.write_doc(str(doc), result, "--seconds 10")


def test_dbt_scale_writes_its_block_once(tmp_path: Path) -> None:
    from bench import dbt_scale

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# B\n{dbt_scale.START}\nold\n{dbt_scale.END}\nafter\n", encoding="utf-8")
    started = {
        "date_utc": "2026-11-29 10:00 UTC", "command": "bench/dbt_scale.py", "commit": "c",
        "cores": 2, "memory_gib": 23.5, "load_average": "0.1 0.1 0.1",
        "versions": {"dbt-core": "1", "dbt-duckdb": "1", "duckdb": "2"},
    }
    history = {
        "rows_per_delivery": 1000, "earlier": 3, "after_one_seconds": 1.0,
        "after_many_seconds": 1.1, "ratio": 1.1,
    }
    results_file = tmp_path / "dbt_scale.json"
    dbt_scale.write_doc(doc, results_file, "history", history, started)
    text = doc.read_text()
    inside = _one_block(text, dbt_scale.START, dbt_scale.END)
    assert inside.startswith("\n| scenario |") and "after 3 earlier deliveries" in inside
    assert "old" not in text and text.endswith(f"{dbt_scale.END}\nafter\n")
    assert json.loads(results_file.read_text())["history"]["ratio"] == 1.1
    doc.write_text("# B\nno section\n")
    with pytest.raises(MarkerError, match="dbt-scale:start"):
        dbt_scale.write_doc(doc, results_file, "history", history, started)
    assert doc.read_text() == "# B\nno section\n"


def test_reliability_report_rewrites_its_table_or_says_which_marker_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.reliability import report as rel

    results = tmp_path / "trials.jsonl"
    row = {"form": "short", "kind": "kill", "trial": "t1", "seed": 1, "result": "pass",
           "started_at": "2026-11-29T10:00:00Z", "seconds": 3.0}
    results.write_text(json.dumps(row) + "\n", encoding="utf-8")
    doc = tmp_path / "reliability.md"
    doc.write_text(f"# R\n{rel.START}\nold rows\n{rel.END}\nafter\n", encoding="utf-8")
    assert rel.main(["--results", str(results), "--doc", str(doc)]) == 0
    text = doc.read_text()
    inside = _one_block(text, rel.START, rel.END)
    assert inside.startswith("\n1 trials recorded") and "| short | kill: t1 |" in inside
    assert "old rows" not in text and text.endswith(f"{rel.END}\nafter\n")
    capsys.readouterr()
    assert rel.main(["--results", str(results), "--check"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(rel.START + "\n") and printed.endswith(rel.END + "\n")
    doc.write_text("# R\nno table\n")
    assert rel.main(["--results", str(results), "--doc", str(doc)]) == 1
    err = capsys.readouterr().err
    assert str(doc) in err and rel.START in err and doc.read_text() == "# R\nno table\n"
