"""Pure payload building: change rows in, /users/track request bodies out, plus local validation.

No I/O here. The runner feeds rows (already ordered by person for attributes); this module groups
one person's attribute changes into one object, validates every row against the rules Braze
applies, and packs objects into request bodies within Braze's per-request limits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sync.config import MAX_BODY_BYTES

KEY_TYPES = ("external_id", "braze_id")
MAX_EXTERNAL_ID_BYTES = 987
MAX_NAME_CHARS = 255
MAX_STRING_CHARS = 255
MAX_NESTED_BYTES = 100 * 1024
MAX_EVENT_PROPERTIES = 256
RESERVED_EVENT_PROPERTIES = frozenset({"time", "event_name"})
# Braze's reserved profile fields: sent as a custom attribute name they would not be custom.
RESERVED_ATTRIBUTES = frozenset({
    "external_id", "braze_id", "user_alias", "alias_name", "alias_label", "first_name",
    "last_name", "email", "phone", "country", "language", "dob", "gender", "home_city",
    "time_zone", "current_location", "date_of_first_session", "date_of_last_session",
    "marked_email_as_spam_at", "email_subscribe", "push_subscribe",
    "email_open_tracking_disabled", "email_click_tracking_disabled", "push_tokens",
    "push_token_import", "subscription_groups", "facebook", "twitter", "image_url", "bio",
    "app_id", "_update_existing_only",
})


class AttrRow(NamedTuple):
    """One row of braze_attribute_changes (plus whether the ledger already holds the key)."""

    braze_key_type: str
    braze_key: str
    attribute_name: str
    value_json: str
    source_stream: str
    source_id: str | None
    in_ledger: bool = False


class EventRow(NamedTuple):
    """One row of braze_event_changes."""

    event_id: str
    braze_key_type: str
    braze_key: str
    event_name: str
    event_time: datetime | None
    properties_json: str
    source_id: str | None


@dataclass(slots=True)
class Rejection:
    """A row the sync will not send (local validation) or Braze refused."""

    row: AttrRow | EventRow
    reason: str
    origin: str  # 'sync_validation' or 'braze'


@dataclass(slots=True)
class Item:
    """One object of a request: one person's attribute changes, or one event."""

    kind: str  # 'attributes' or 'events'
    text: str  # the object as compact JSON text
    rows: Sequence[Any]  # AttrRow list (attributes) or [EventRow] (events); see obj
    size: int = -1  # bytes of text in UTF-8
    # Staged attribute object (sync/fastpath.py): its number, and rows is range(changes).
    obj: int = -1

    def __post_init__(self) -> None:
        if self.size < 0:
            t = self.text
            self.size = len(t) if t.isascii() else len(t.encode("utf-8"))

    @property
    def data_points(self) -> int:
        return len(self.rows)


@dataclass(slots=True)
class Batch:
    """One /users/track request: its objects per array, in the order they appear in the body."""

    attributes: list[Item] = field(default_factory=list)
    events: list[Item] = field(default_factory=list)
    size: int = 2  # bytes of the body so far ("{}")

    @property
    def objects(self) -> int:
        return len(self.attributes) + len(self.events)

    @property
    def data_points(self) -> int:
        return sum(i.data_points for i in self.attributes) + sum(i.data_points for i in self.events)

    def body(self) -> bytes:
        parts = []
        if self.attributes:
            parts.append('"attributes":[' + ",".join(i.text for i in self.attributes) + "]")
        if self.events:
            parts.append('"events":[' + ",".join(i.text for i in self.events) + "]")
        return ("{" + ",".join(parts) + "}").encode("utf-8")

    def split(self) -> tuple[Batch, Batch]:
        """Two halves (by objects), to isolate the bad object of a whole-request 400."""
        items = [("a", i) for i in self.attributes] + [("e", i) for i in self.events]
        half = len(items) // 2
        left, right = items[:half], items[half:]
        return (
            Batch([i for k, i in left if k == "a"], [i for k, i in left if k == "e"]),
            Batch([i for k, i in right if k == "a"], [i for k, i in right if k == "e"]),
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _key_problem(key_type: str, key: str | None) -> str | None:
    if key_type not in KEY_TYPES:
        return f"identifier type {key_type!r} is not external_id or braze_id"
    if key is None or key == "":
        return f"{key_type} is empty"
    if key_type == "external_id" and len(key.encode("utf-8")) > MAX_EXTERNAL_ID_BYTES:
        return f"external_id is longer than {MAX_EXTERNAL_ID_BYTES} bytes"
    return None


def _name_problem(what: str, name: str | None) -> str | None:
    if name is None or name == "":
        return f"{what} is empty"
    if len(name) > MAX_NAME_CHARS:
        return f"{what} is longer than {MAX_NAME_CHARS} characters"
    if name.startswith("$"):
        return f"{what} starts with '$'"
    return None


def _value_problem(value: Any, where: str, in_array: bool = False) -> str | None:
    if isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            return f"{where}: string longer than {MAX_STRING_CHARS} characters"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{where}: number is not finite"
    if isinstance(value, dict):
        for k, v in value.items():
            if not k or len(k) > MAX_NAME_CHARS or k.startswith("$"):
                return f"{where}: nested key {k!r} is empty, too long or starts with '$'"
            problem = _value_problem(v, where, in_array)
            if problem:
                return problem
    if isinstance(value, list):
        for v in value:
            problem = _value_problem(v, where, True)
            if problem:
                return problem
    return None


def _load_json(text: str | None, where: str) -> tuple[Any, str | None]:
    if text is None:
        return None, f"{where} is missing"
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except (ValueError, TypeError):
        return None, f"{where} is not valid JSON"


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


SIMPLE_VALUES = frozenset({"true", "false", "null"})
_NAME_CACHE: dict[str, tuple[str | None, str]] = {}


def _json_str(text: str) -> str:
    """JSON text of a string; a fast path for plain printable ASCII."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    return json.dumps(text, ensure_ascii=False)


def _attribute_name(name: str) -> tuple[str | None, str]:
    """(problem or None, JSON text of the name); cached, names repeat across rows."""
    hit = _NAME_CACHE.get(name)
    if hit is None:
        problem = _name_problem("attribute name", name)
        if problem is None and name in RESERVED_ATTRIBUTES:
            problem = f"attribute name {name!r} is a reserved Braze profile field"
        hit = (problem, "" if problem else _json_str(name))
        if len(_NAME_CACHE) < 100_000:
            _NAME_CACHE[name] = hit
    return hit


def _attribute_value_problem(name: str, value_json: str | None) -> str | None:
    if value_json in SIMPLE_VALUES:
        return None
    value, problem = _load_json(value_json, "value_json")
    if problem:
        return problem
    problem = _value_problem(value, f"attribute {name}")
    if problem:
        return problem
    if isinstance(value, dict | list) and len(_dumps(value).encode("utf-8")) > MAX_NESTED_BYTES:
        return f"attribute {name}: nested value over {MAX_NESTED_BYTES} bytes"
    return None


def attribute_problem(row: AttrRow) -> str | None:
    """Why Braze would reject this attribute change, or None."""
    problem = _key_problem(row.braze_key_type, row.braze_key)
    if problem:
        return problem
    problem, _ = _attribute_name(row.attribute_name)
    if problem:
        return problem
    return _attribute_value_problem(row.attribute_name, row.value_json)


def format_time(t: datetime) -> str:
    """UTC ISO-8601 with a Z (the warehouse stores naive UTC timestamps)."""
    if t.tzinfo is not None:
        t = (t - (t.utcoffset() or timedelta(0))).replace(tzinfo=None)
    return t.isoformat() + "Z"


def event_problem(row: EventRow) -> tuple[dict[str, Any] | None, str | None]:
    """The event object Braze would receive, or why Braze would reject it."""
    problem = _event_problem(row)
    if problem:
        return None, problem
    return json.loads(_event_text(row)), None


def _event_problem(row: EventRow) -> str | None:
    problem = _key_problem(row.braze_key_type, row.braze_key)
    if problem:
        return problem
    if not row.event_id:
        return "event_id is empty"
    problem = _name_problem("event name", row.event_name)
    if problem:
        return problem
    if row.event_time is None:
        return "event_time is missing"
    text = row.properties_json
    if text is None or text == "{}":
        return None
    props, problem = _load_json(text, "properties_json")
    if problem:
        return problem
    if not isinstance(props, dict):
        return "properties are not a JSON object"
    if len(props) > MAX_EVENT_PROPERTIES:
        return f"more than {MAX_EVENT_PROPERTIES} properties"
    nested = False
    for k, v in props.items():
        problem = _name_problem("property name", k)
        if problem:
            return problem
        if k in RESERVED_EVENT_PROPERTIES:
            return f"property name {k!r} is reserved by Braze"
        problem = _value_problem(v, f"property {k}")
        if problem:
            return problem
        nested = nested or isinstance(v, dict | list)
    if nested and len(_dumps(props).encode("utf-8")) > MAX_NESTED_BYTES:
        return f"properties with arrays or objects are over {MAX_NESTED_BYTES} bytes"
    return None


def _event_text(row: EventRow) -> str:
    assert row.event_time is not None
    text = ('{"' + row.braze_key_type + '":' + _json_str(row.braze_key) + ',"name":'
            + _json_str(row.event_name) + ',"time":"' + format_time(row.event_time) + '"')
    props = row.properties_json
    if props is not None and props.strip() not in ("", "{}"):
        text += ',"properties":' + props
    return text + "}"


def attribute_items(rows: Iterable[AttrRow], rejected: list[Rejection]) -> Iterator[Item]:
    """One object per person: rows must arrive ordered by (braze_key_type, braze_key)."""
    return attribute_items_from_chunks((rows,), rejected)


def attribute_items_from_chunks(
    chunks: Iterable[Iterable[AttrRow]], rejected: list[Rejection]
) -> Iterator[Item]:
    """As attribute_items, over chunks of rows (as DuckDB hands them over; the hot loop).

    Rows that fail validation are appended to `rejected`; the person's other changes still go.
    The object text embeds each validated value_json as it is (it is already JSON). Rows may be
    plain tuples in AttrRow's column order.
    """
    current: tuple[str, str] | None = None
    parts: list[str] = []
    good: list[AttrRow] = []
    key_ok = True
    key_problem: str | None = None
    names = _NAME_CACHE
    simple = SIMPLE_VALUES
    for chunk in chunks:
        for row in chunk:
            key = (row[0], row[1])
            if key != current:
                if good:
                    parts.append("}")
                    yield Item("attributes", "".join(parts), good)
                current, good = key, []
                key_problem = _key_problem(row[0], row[1])
                key_ok = key_problem is None
                parts = ['{"' + row[0] + '":' + _json_str(row[1])] if key_ok else []
            if not key_ok:
                rejected.append(Rejection(AttrRow._make(row), key_problem or "invalid identifier",
                                          "sync_validation"))
                continue
            hit = names.get(row[2])
            problem, name_text = hit if hit is not None else _attribute_name(row[2])
            if problem is None and row[3] not in simple:
                problem = _attribute_value_problem(row[2], row[3])
            if problem:
                rejected.append(Rejection(AttrRow._make(row), problem, "sync_validation"))
                continue
            parts.append("," + name_text + ":" + row[3])
            good.append(row)
    if good:
        parts.append("}")
        yield Item("attributes", "".join(parts), good)


def event_items(rows: Iterable[EventRow], rejected: list[Rejection]) -> Iterator[Item]:
    for row in rows:
        problem = _event_problem(row)
        if problem:
            rejected.append(Rejection(row, problem, "sync_validation"))
            continue
        text = _event_text(row)
        if len(text.encode("utf-8")) + 64 > MAX_BODY_BYTES:
            rejected.append(
                Rejection(row, "event is larger than a whole request", "sync_validation"))
            continue
        yield Item("events", text, [row])


class Batcher:
    """Packs items into requests.

    Combined mode (default): at most `max_objects` objects per request across both arrays,
    attributes first and events filling the rest. Legacy mode: `max_objects` per array.
    A request never exceeds MAX_BODY_BYTES. `add` returns the previous batch once it is full.
    """

    def __init__(self, max_objects: int, legacy_per_array: bool = False,
                 max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.max_objects = max_objects
        self.legacy = legacy_per_array
        self.max_body = max_body_bytes - 64  # room for the envelope
        self.current = Batch()
        self.n_attr = 0
        self.n_event = 0

    def _full_for(self, kind: str) -> bool:
        if self.legacy:
            n = self.n_attr if kind == "attributes" else self.n_event
            return n >= self.max_objects
        return self.n_attr + self.n_event >= self.max_objects

    def add(self, item: Item) -> Batch | None:
        out = None
        b = self.current
        if (self.n_attr or self.n_event) and (
                self._full_for(item.kind) or b.size + item.size + 1 > self.max_body):
            out = b
            b = self.current = Batch()
            self.n_attr = self.n_event = 0
        if item.kind == "attributes":
            b.attributes.append(item)
            self.n_attr += 1
        else:
            b.events.append(item)
            self.n_event += 1
        b.size += item.size + 1
        return out

    def flush(self) -> Batch | None:
        if not (self.n_attr or self.n_event):
            return None
        out, self.current = self.current, Batch()
        self.n_attr = self.n_event = 0
        return out


def batches(attr_items: Iterable[Item], evt_items: Iterable[Item], max_objects: int,
            legacy_per_array: bool = False) -> Iterator[Batch]:
    """All requests for two streams of items.

    Combined mode: attributes first, events fill the rest of the last attributes request.
    Legacy mode: the two arrays fill side by side, up to max_objects each per request.
    """
    batcher = Batcher(max_objects, legacy_per_array)
    add = batcher.add
    if legacy_per_array:
        a_iter, e_iter = iter(attr_items), iter(evt_items)
        a_next, e_next = next(a_iter, None), next(e_iter, None)
        while a_next is not None or e_next is not None:
            # Take from attributes unless their array is full and events still have room.
            take_attr = a_next is not None and (
                e_next is None or batcher.n_attr <= batcher.n_event)
            if take_attr:
                item, a_next = a_next, next(a_iter, None)
            else:
                item, e_next = e_next, next(e_iter, None)
            assert item is not None
            full = add(item)
            if full is not None:
                yield full
    else:
        for item in attr_items:
            full = add(item)
            if full is not None:
                yield full
        for item in evt_items:
            full = add(item)
            if full is not None:
                yield full
    last = batcher.flush()
    if last is not None:
        yield last
