"""Markdown tables from bench/run.py's results, written into docs/benchmarks.md between markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BRAZE_LIMIT_RPS = 1000.0


def _n(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_n(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _stage(cycle: dict[str, Any], name: str) -> dict[str, Any]:
    for stage in cycle.get("stages", []):
        if stage["stage"] == name:
            return stage
    return {}


def _machine(results: dict[str, Any]) -> str:
    m = results["machine"]
    v = m["versions"]
    b = results["base"]
    return (
        f"Run {m['date_utc']} with `{m['command']}` on commit `{m['commit']}`: {m['cpu']}, "
        f"{m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; Python {m['python']}, "
        f"dbt-core {v['dbt-core']}, dbt-duckdb {v['dbt-duckdb']}, duckdb {v['duckdb']}. "
        f"Load average when it started: {m.get('load_average', '?')} (the machine may have "
        f"been shared). Whole run: {results.get('total_seconds', 0):,.0f} s.\n\n"
        f"Base size (1x): {b['people']:,} people, {b['splits']} splits, {b['churn']:.0%} daily "
        f"churn, {b['events_per_day']:,} events a day, {b['attributes']} custom attributes, "
        f"{b['format'].upper()} files, seed {b['seed']}; emulator latency 50 ms per response, "
        f"rate limit 3,000 requests per 3 s on /users/track."
    )


def _cycle_table(cycle: dict[str, Any]) -> str:
    rows: list[list[Any]] = []
    for i, gen in enumerate(cycle.get("generate", [])):
        rows.append([f"generate day {i} extracts", gen["seconds"], "–", "–", "–", "–", "–", 0])
    for s in cycle.get("stages", []):
        rows.append(
            [
                s["stage"],
                s["seconds"],
                s["peak_rss_mb"],
                s.get("requests"),
                s.get("data_points"),
                s.get("responses_429"),
                s.get("objects_rejected"),
                s["returncode"],
            ]
        )
    header = [
        "stage",
        "wall s",
        "peak MB",
        "requests",
        "data points",
        "429s",
        "rejected objects",
        "exit",
    ]
    note = ""
    if cycle.get("failed"):
        note = f"\n\n**Stopped:** {cycle['failed']}."
        for s in cycle.get("stages", []):
            if s.get("error_tail"):
                note += f"\n\n```\n{s['error_tail']}\n```"
    return _table(header, rows) + note


def _rps(stage: dict[str, Any]) -> float | None:
    if not stage or not stage.get("requests") or not stage.get("seconds"):
        return None
    return stage["requests"] / stage["seconds"]


def _limits_table(cycles: list[dict[str, Any]]) -> str:
    rows: list[list[Any]] = []
    shown = [cycles[0]] + ([cycles[-1]] if len(cycles) > 1 else [])
    for cycle in shown:
        for label in ("initial", "daily"):
            s = _stage(cycle, f"{label}: sync")
            rps = _rps(s)
            if rps is None:
                continue
            own = (s.get("summary") or {}).get("requests_per_second")
            detail = f"{rps:,.0f} requests/s over the process's wall time"
            if own:
                detail += f"; {own:,.0f}/s by the sync's own clock"
            rows.append(
                [
                    f"sync, {label} run at {cycle['scale']}x ({s['requests']:,} requests)",
                    detail,
                    f"{rps / BRAZE_LIMIT_RPS:.1%} of Braze's 1,000 requests/s",
                ]
            )
    cycle = cycles[0]
    dbt = _stage(cycle, "daily: dbt build")
    floor = cycle.get("floor") or {}
    if dbt and floor:
        ratio = dbt["seconds"] / floor["seconds"] if floor.get("seconds") else None
        rows.append(
            [
                f"daily dbt build at {cycle['scale']}x",
                f"{dbt['seconds']:,.1f} s, {dbt['peak_rss_mb']:,.0f} MB",
                f"{ratio:,.1f}x the time of DuckDB alone" if ratio else "–",
            ]
        )
        rows.append(
            [
                "DuckDB alone: read the same files + diff",
                f"{floor['seconds']:,.1f} s, {floor['peak_rss_mb']:,.0f} MB",
                f"{floor.get('attribute_changes', 0):,} attribute changes, "
                f"{floor.get('new_events', 0):,} new events",
            ]
        )
    return _table(["measure", "value", "against"], rows)


def _alternatives_table(cycle: dict[str, Any], alt: dict[str, Any]) -> str:
    ours_dbt, ours = _stage(cycle, "daily: dbt build"), _stage(cycle, "daily: sync")
    ours_dp = ours.get("data_points") or 0
    rows: list[list[Any]] = []
    if ours:
        rows.append(
            [
                "this project: dbt build + sync",
                ours.get("requests"),
                ours_dp,
                "1x",
                round(ours_dbt.get("seconds", 0) + ours["seconds"], 1),
                _fmt_rps(ours),
            ]
        )
    full = alt.get("full_resend") or {}
    if full:
        rows.append(
            [
                "full re-send of every row (CDI, table rewritten daily)",
                full["requests"],
                full["data_points"],
                _times(full["data_points"], ours_dp),
                "–",
                "–",
            ]
        )
    for loop in alt.get("loops", []):
        info = loop.get("loop", {})
        label = f"{loop['stage']} ({info.get('workers', '?')} thread(s))"
        if loop.get("complete"):
            dp, secs = loop.get("data_points"), info.get("seconds", loop["seconds"])
        else:
            label += f", stopped after {info.get('requests', 0):,} requests: time projected"
            dp, secs = full.get("data_points"), loop.get("projected_seconds")
        rps = f"{info['requests'] / info['seconds']:,.0f}" if info.get("seconds") else "–"
        rows.append([label, full.get("requests"), dp, _times(dp, ours_dp), secs, rps])
    text = _table(
        [
            "approach (day 1, same data)",
            "requests",
            "data points",
            "vs ours",
            "wall s",
            "requests/s",
        ],
        rows,
    )
    if alt.get("loops_error"):
        text += f"\n\n**braze-client loops not run:** {alt['loops_error']}"
    return text


def _fmt_rps(stage: dict[str, Any]) -> str:
    rps = _rps(stage)
    return "–" if rps is None else f"{rps:,.0f}"


def _times(value: Any, base: Any) -> str:
    if not value or not base:
        return "–"
    return f"{value / base:,.1f}x"


def _emulator_mb(cycle: dict[str, Any]) -> float | None:
    """The emulator's largest proportional set size over the size's stages (all processes)."""
    seen = [m["pss_mb"] for m in cycle.get("emulator_memory", []) if "pss_mb" in m]
    return max(seen) if seen else None


def _growth_table(cycles: list[dict[str, Any]]) -> str:
    rows: list[list[Any]] = []
    first: dict[str, float] = {}
    for c in cycles:
        dbt, sync = _stage(c, "daily: dbt build"), _stage(c, "daily: sync")
        gen = c.get("generate", [{}])[-1]
        data = (
            gen.get("membership_rows", 0) + gen.get("attribute_rows", 0) + gen.get("event_rows", 0)
        )
        if not dbt or not sync:
            rows.append(
                [f"{c['scale']}x", c["spec"]["people"], data, "failed", "", "", "", "", "", "",
                 "", ""]
            )
            continue
        secs = dbt["seconds"] + sync["seconds"]
        mem = max(dbt["peak_rss_mb"], sync["peak_rss_mb"])
        if not first:
            first = {"data": data, "secs": secs, "mem": mem}
        rows.append(
            [
                f"{c['scale']}x",
                c["spec"]["people"],
                data,
                dbt["seconds"],
                dbt["peak_rss_mb"],
                sync["seconds"],
                sync["peak_rss_mb"],
                _emulator_mb(c),
                sync.get("requests"),
                sync.get("data_points"),
                f"{data / first['data']:.2f}x",
                f"{secs / first['secs']:.2f}x / {mem / first['mem']:.2f}x",
            ]
        )
    return _table(
        [
            "size",
            "people",
            "rows landed (day 1)",
            "dbt s",
            "dbt MB",
            "sync s",
            "sync MB",
            "emulator MB",
            "requests",
            "data points",
            "data growth",
            "time / memory growth",
        ],
        rows,
    )


def _initial_table(cycles: list[dict[str, Any]]) -> str:
    rows = []
    for c in cycles:
        dbt, sync = _stage(c, "initial: dbt build"), _stage(c, "initial: sync")
        if dbt and sync:
            rows.append(
                [
                    f"{c['scale']}x",
                    c["spec"]["people"],
                    dbt["seconds"],
                    dbt["peak_rss_mb"],
                    sync["seconds"],
                    sync["peak_rss_mb"],
                    sync.get("requests"),
                    sync.get("data_points"),
                ]
            )
    return _table(
        ["size", "people", "dbt s", "dbt MB", "sync s", "sync MB", "requests", "data points"], rows
    )


def _idle_table(cycles: list[dict[str, Any]]) -> str:
    rows = []
    for c in cycles:
        dbt, sync = _stage(c, "nothing_new: dbt build"), _stage(c, "nothing_new: sync")
        if dbt and sync:
            rows.append(
                [
                    f"{c['scale']}x",
                    dbt["seconds"],
                    dbt["peak_rss_mb"],
                    sync["seconds"],
                    sync["peak_rss_mb"],
                    sync.get("requests"),
                    sync.get("data_points"),
                ]
            )
    return _table(["size", "dbt s", "dbt MB", "sync s", "sync MB", "requests", "data points"], rows)


def render(results: dict[str, Any]) -> str:
    cycles = results.get("cycles", [])
    if not cycles:
        return "_No results._"
    first = cycles[0]
    parts = [
        _machine(results)
        + (f"\n\n**Note:** {results['note']}" if results.get("note") else "")
        + _measured_when(results),
        f"#### Daily cycle at {first['scale']}x, stage by stage\n\n"
        "Each stage is one child process; peak memory is its maximum resident set size.\n"
        "Requests and data points are the emulator's counters for the sync stage.\n\n"
        + _cycle_table(first),
        "#### Against the limits\n\n" + _limits_table(cycles),
    ]
    if results.get("alternatives"):
        parts.append(
            "#### Against the alternatives (day 1's data)\n\n"
            "Data points for the full re-send are every split flag and every custom attribute "
            "of every person, plus the day's events; the braze-client loops send exactly those "
            "request bodies (75 objects each) and the emulator counts what they cost.\n\n"
            + _alternatives_table(first, results["alternatives"])
        )
    parts.append(
        "#### Growth: the daily cycle at each size\n\n"
        "emulator MB: the stand-in Braze's largest proportional set size over the size's runs "
        "(every profile in memory); it is not the tool's cost, but it bounds what fits here.\n\n"
        + _growth_table(cycles)
    )
    parts.append("#### Nothing new: the fixed cost of a run\n\n" + _idle_table(cycles))
    parts.append(
        "#### The first load (day 0 into an empty warehouse) at each size\n\n"
        + _initial_table(cycles)
    )
    for c in cycles[1:]:
        if c.get("failed"):
            parts.append(f"#### {c['scale']}x stopped\n\n" + _cycle_table(c))
    return "\n\n".join(parts)


def _measured_when(results: dict[str, Any]) -> str:
    """Which run measured each size, when some were kept from an earlier run (--resume)."""
    if not results.get("resumed_from"):
        return ""
    lines = [
        f"- {c['scale']}x: {c['measured']['date_utc']}, commit `{c['measured']['commit']}`, "
        f"load average {c['measured']['load_average']}"
        for c in results["cycles"]
        if c.get("measured")
    ]
    return "\n\nSizes were measured in parts (`--resume`):\n\n" + "\n".join(lines)


HEADINGS = {"full": "## Results: `make bench`", "quick": "## Results: `make bench-quick`"}


def write_section(doc: Path, mode: str, markdown: str) -> None:
    """Replace the text between this mode's markers, adding the section if it is missing."""
    if not doc.exists():
        doc.write_text("# Benchmarks\n", encoding="utf-8")
    replace_between_markers(
        doc,
        f"<!-- bench:{mode}:start -->",
        f"<!-- bench:{mode}:end -->",
        markdown,
        new_section_heading=HEADINGS[mode],
    )


class MarkerError(SystemExit):
    """A doc lacks a marker it must have. A SystemExit: a command that meets it stops with this
    message (no traceback), and a caller that wants another answer catches it."""


def replace_between_markers(
    path: Path, start: str, end: str, text: str, *, new_section_heading: str | None = None
) -> None:
    """Rewrite what stands between the start and end markers of the file at path with text.

    The result is `start`, a newline, text, a newline, `end`; everything before the first start
    marker and after the first end marker that follows it is kept as it was. The one writer of
    generated sections (bench/run.py, bench/dbt_scale.py, bench/sync_throughput.py,
    bench/emulator_throughput.py, tests/reliability/report.py).

    A missing marker is a MarkerError naming the file and the marker, and nothing is written,
    except when new_section_heading is given and neither marker is in the file: then the section
    is added at the end of the file under that heading. Only one of the two markers is always an
    error: adding a section then would leave a stray marker behind.
    """
    doc = path.read_text(encoding="utf-8")
    head, found_start, rest = doc.partition(start)
    _, found_end, tail = rest.partition(end)
    block = f"{start}\n{text}\n{end}"
    if found_start and found_end:
        doc = head + block + tail
    elif new_section_heading is not None and not found_start and end not in doc:
        doc = doc.rstrip("\n") + f"\n\n{new_section_heading}\n\n{block}\n"
    else:
        missing = end if found_start else start
        where = " after its start marker" if found_start else ""
        raise MarkerError(f"{path} has no marker {missing!r}{where}; nothing written")
    path.write_text(doc, encoding="utf-8")
