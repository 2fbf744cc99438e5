"""POST /users/track: the order of processing, fast paths, and what each object leaves behind.

A mixin of `model.Backend` (which holds the state it works on: settings, store, events,
purchases, data points, counters). Knows no HTTP. Objects are processed in Braze's order
(attributes, events, purchases) and apply whole or not at all; per-object failures become
`errors[]` entries, a request with no valid object raises `NoValidData`.
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from braze_emulator import errors
from braze_emulator.attributes import all_plain, parse_attributes, plain_external_id
from braze_emulator.events import parse_event, parse_purchase, plain_event
from braze_emulator.identifiers import parse_identifier
from braze_emulator.store import Profile
from braze_emulator.timeparse import format_time, parse_time

if TYPE_CHECKING:
    from collections import deque
    from itertools import count

    from braze_emulator.settings import Settings
    from braze_emulator.store import Store

ARRAYS = ("attributes", "events", "purchases")


class Tracking:
    settings: Settings
    store: Store
    events: list[dict[str, Any]]
    purchases: list[dict[str, Any]]
    data_points: dict[str, int]
    counters: dict[str, Any]
    _pending: deque[tuple[float, str, dict[str, Any]]]
    _record_ids: count[int]
    _id_prefix: str

    def fast_params(self) -> tuple[int, bool, int, int]:
        """What the plain-object checks depend on; a worker's hints are used only if they match:
        (max string length, fast paths allowed, max event name length, max event properties)."""
        settings = self.settings
        return (
            settings.max_string_length,
            not settings.blocked_external_ids and settings.export_lag_ms <= 0,
            settings.max_event_name_length,
            settings.max_event_properties,
        )

    def track(
        self,
        body: Any,
        now: datetime | None = None,
        plain_hint: Any = None,
        event_hint: Any = None,
    ) -> dict[str, Any]:
        """`plain_hint` / `event_hint`: per attributes / events object, whether
        `plain_external_id` / `plain_event` accepts it, as computed by a worker process under
        the current `fast_params` (None: compute here)."""
        if not isinstance(body, dict):
            raise errors.InvalidRequest("The request body must be a JSON object")
        settings = self.settings
        arrays: dict[str, list[Any]] = {}
        for name in ARRAYS:
            value = body.get(name)
            if value is None:
                continue
            if not isinstance(value, list):
                raise errors.InvalidRequest(f"'{name}' must be an array")
            arrays[name] = value
        sizes = [len(v) for v in arrays.values()]
        if settings.batch_limit_mode == "combined":
            too_many = sum(sizes) > settings.max_objects
        else:
            too_many = any(size > settings.max_objects for size in sizes)
        if too_many:
            raise errors.MaxInputLengthExceeded()
        now = now or datetime.now(UTC)
        now_text = format_time(now)
        received = self.counters["objects_received"]
        for name, value in arrays.items():
            received[name] += len(value)

        error_list: list[dict[str, Any]] = []
        processed = dict.fromkeys(arrays, 0)
        skipped = self.counters["objects_skipped"]
        style = settings.error_type_style

        self._track_attributes(
            arrays.get("attributes", ()), now_text, error_list, processed, plain_hint
        )
        store = self.store
        by_external = store.by_external

        max_len, fast, max_name, max_props = self.fast_params()
        event_objects = arrays.get("events", ())
        events_hinted = (
            fast and isinstance(event_hint, tuple | list) and len(event_hint) == len(event_objects)
        )
        for index, obj in enumerate(event_objects):
            if events_hinted:
                plain = _hinted_event(obj, now) if event_hint[index] else None
            elif fast:
                plain = plain_event(obj, now, max_len, max_name, max_props)
            else:
                plain = None
            if plain is not None:
                external_id, update_only, name, when, props, app_id = plain
                profile = by_external.get(external_id)
                try:
                    if profile is None and update_only is False:
                        # Store.resolve of a free external_id that may create (fast paths only).
                        profile = store.create_external(external_id, now_text)
                        self.counters["profiles_created"] += 1
                    elif profile is None:
                        profile = self._resolve(("external_id", external_id, update_only), now_text)
                except errors.ObjectError as exc:
                    error_list.append(_error(exc, style, "events", index))
                    continue
                if profile is None:
                    skipped["events"] += 1
                else:
                    self._store_event(profile, (name, when, props, app_id), now_text)
                processed["events"] += 1
                continue
            try:
                if type(obj) is not dict:
                    raise errors.NotAnObject()
                ident = parse_identifier(obj, "events", settings)
                event = parse_event(obj, now, settings)
                profile = by_external.get(ident[1]) if ident[0] == "external_id" else None
                if profile is None:
                    profile = self._resolve(ident, now_text)
                if profile is None:
                    skipped["events"] += 1
                else:
                    self._store_event(profile, event, now_text)
                processed["events"] += 1
            except errors.ObjectError as exc:
                error_list.append(_error(exc, style, "events", index))

        for index, obj in enumerate(arrays.get("purchases", ())):
            try:
                if type(obj) is not dict:
                    raise errors.NotAnObject()
                ident = parse_identifier(obj, "purchases", settings)
                purchase = parse_purchase(obj, now, settings)
                profile = self._resolve(ident, now_text)
                if profile is None:
                    skipped["purchases"] += 1
                else:
                    self._store_purchase(profile, purchase, now_text)
                processed["purchases"] += 1
            except errors.ObjectError as exc:
                error_list.append(_error(exc, style, "purchases", index))

        rejected = self.counters["objects_rejected"]
        for entry in error_list:
            rejected[entry["input_array"]] += 1
        done = self.counters["objects_processed"]
        for name, count in processed.items():
            done[name] += count
        if not any(processed.values()):
            raise errors.NoValidData(errors=error_list)
        response: dict[str, Any] = {"message": "success"}
        for name, count in processed.items():
            if count:
                response[f"{name}_processed"] = count
        if error_list:
            error_list.sort(key=lambda e: (ARRAYS.index(e["input_array"]), e["index"]))
            response["errors"] = error_list
        return response

    def _track_attributes(
        self,
        objects: Any,
        now_text: str,
        error_list: list[Any],
        processed: dict[str, int],
        plain_hint: Any,
    ) -> None:
        """Attributes objects, in order. Plain objects (an external_id and scalar values) are
        applied in one pass while no other kind has been seen; from the first other object on,
        every object is validated first (nested poison needs the whole request) and applied
        after, still in order."""
        settings = self.settings
        style = settings.error_type_style
        store = self.store
        by_external = store.by_external
        max_len, fast = self.fast_params()[:2]
        hinted = (
            fast and isinstance(plain_hint, tuple | list) and len(plain_hint) == len(objects)
        )
        if objects and fast and (
            (hinted and all(plain_hint)) or (not hinted and all_plain(objects, max_len))
        ):
            self._apply_all_plain(objects, now_text, error_list, processed)
            return
        deferred: list[tuple[Any, ...]] = []
        poisoned = False
        points_total = 0
        done = 0
        for index, obj in enumerate(objects):
            if fast and not deferred and type(obj) is dict:
                if hinted:
                    ident = (
                        ("external_id", obj["external_id"], obj.get("_update_existing_only", False))
                        if plain_hint[index] else None
                    )
                else:
                    ident = plain_external_id(obj, max_len)
                if ident is not None:
                    profile = by_external.get(ident[1])
                    if profile is None:
                        try:
                            profile = self._resolve(ident, now_text)
                        except errors.ObjectError as exc:
                            error_list.append(_error(exc, style, "attributes", index))
                            continue
                    done += 1
                    if profile is None:
                        self.counters["objects_skipped"]["attributes"] += 1
                        continue
                    points = store.apply_plain(profile, obj)
                    points_total += points
                    profile.data_points += points
                    store._seq += 1
                    profile.updated_seq = store._seq
                    profile.updated_at = now_text
                    continue
            try:
                if type(obj) is not dict:
                    raise errors.NotAnObject()
                ident = parse_identifier(obj, "attributes", settings)
                if hinted:
                    plain = plain_hint[index]
                else:
                    plain = fast and plain_external_id(obj, max_len) is not None
                if plain:
                    deferred.append((index, ident, obj, None, False))
                else:
                    sets, ops, bad, needs_check = parse_attributes(obj, ident[0], settings)
                    poisoned = poisoned or bad
                    deferred.append((index, ident, sets, ops, needs_check))
            except errors.ObjectError as exc:
                error_list.append(_error(exc, style, "attributes", index))
        skip_nested = poisoned and settings.nested_poison
        for index, ident, sets, ops, needs_check in deferred:
            try:
                profile = self._resolve(ident, now_text)
                done += 1
                if profile is None:
                    self.counters["objects_skipped"]["attributes"] += 1
                    continue
                if ops is None:
                    points = store.apply_plain(profile, sets)
                else:
                    if needs_check:
                        store.check_ops(profile, ops, settings)
                    points = store.apply_sets(profile, sets) if sets else 0
                    if ops:
                        points += store.apply_ops(profile, ops, skip_nested, settings)
                points_total += points
                profile.data_points += points
                self._changed(profile, now_text)
            except errors.ObjectError as exc:
                error_list.append(_error(exc, style, "attributes", index))
        if "attributes" in processed:
            processed["attributes"] += done
        self.data_points["attributes"] += points_total
        self.data_points["total"] += points_total

    def _apply_all_plain(
        self, objects: list[Any], now_text: str, error_list: list[Any], processed: dict[str, int]
    ) -> None:
        """The common request: every attributes object is plain (checked by a worker)."""
        store = self.store
        get = store.by_external.get
        style = self.settings.error_type_style
        create = store.create_external
        points_total = 0
        done = 0
        created = 0
        seq = store._seq  # nothing in this loop touches it but the loop itself
        for index, obj in enumerate(objects):
            external_id = obj["external_id"]
            profile = get(external_id)
            if profile is None:
                update_only = obj.get("_update_existing_only", False)
                if update_only is False:
                    # Store.resolve of a free external_id that may create (the fast paths are
                    # off when external_ids are blocked): create it here, counted below.
                    profile = create(external_id, now_text)
                    created += 1
                else:
                    ident = ("external_id", external_id, update_only)
                    try:
                        profile = self._resolve(ident, now_text)
                    except errors.ObjectError as exc:
                        error_list.append(_error(exc, style, "attributes", index))
                        continue
                    if profile is None:
                        done += 1
                        self.counters["objects_skipped"]["attributes"] += 1
                        continue
            done += 1
            if None in obj.values():
                points = store.apply_plain(profile, obj)
            else:
                custom = profile.custom
                custom.update(obj)  # reserved names never live among custom attributes
                del custom["external_id"]
                points = len(obj) - 1
                if "_update_existing_only" in obj:
                    del custom["_update_existing_only"]
                    points -= 1
            points_total += points
            profile.data_points += points
            seq += 1
            profile.updated_seq = seq
            profile.updated_at = now_text
        store._seq = seq
        self.counters["profiles_created"] += created
        processed["attributes"] += done
        self.data_points["attributes"] += points_total
        self.data_points["total"] += points_total

    def _resolve(self, ident: tuple[str, Any, bool], now_text: str) -> Profile | None:
        id_type, value, update_only = ident
        profile, created = self.store.resolve(id_type, value, update_only, now_text, self.settings)
        if created:
            self.counters["profiles_created"] += 1
        return profile

    def _bill(self, profile: Profile, kind: str, points: int) -> None:
        self.data_points[kind] += points
        self.data_points["total"] += points
        profile.data_points += points

    def _changed(self, profile: Profile, now_text: str) -> None:
        """A write landed on `profile`: it becomes the most recently updated one, and with an
        export lag a snapshot is queued for /users/export/ids."""
        self.store.touch(profile, now_text)
        if self.settings.export_lag_ms > 0:
            due = time.monotonic() + self.settings.export_lag_ms / 1000
            self._pending.append((due, profile.braze_id, copy.deepcopy(profile.as_dict())))

    def _record_id(self) -> str:
        return f"{self._id_prefix}{next(self._record_ids):016x}"

    def _store_event(self, profile: Profile, event: tuple[Any, ...], now_text: str) -> None:
        name, when, props, app_id = event
        when_text = format_time(when)
        summary = profile.event_summary.get(name)
        if summary is None:
            profile.event_summary[name] = [when_text, when_text, 1]
        else:
            if when_text < summary[0]:
                summary[0] = when_text
            if when_text > summary[1]:
                summary[1] = when_text
            summary[2] += 1
        settings = self.settings
        points = 1 + len(props) if settings.bill_event_properties else 1
        data_points = self.data_points
        data_points["events"] += points
        data_points["total"] += points
        profile.data_points += points
        self.counters["events_stored"] += 1
        if settings.store_events:
            self.events.append({
                "id": f"{self._id_prefix}{next(self._record_ids):016x}",
                "braze_id": profile.braze_id, "external_id": profile.external_id,
                "name": name, "time": when_text, "properties": props, "app_id": app_id,
                "received_at": now_text,
            })
        if settings.export_lag_ms > 0:
            self._changed(profile, now_text)
        else:
            store = self.store
            store._seq += 1
            profile.updated_seq = store._seq
            profile.updated_at = now_text

    def _store_purchase(self, profile: Profile, purchase: tuple[Any, ...], now_text: str) -> None:
        product, currency, price, quantity, when, props, app_id = purchase
        when_text = format_time(when)
        _summarise(profile.purchase_summary, product, when_text, quantity)
        profile.revenue += price * quantity
        self._bill(profile, "purchases", 1 + len(props))
        self.counters["purchases_stored"] += 1
        if self.settings.store_events:
            self.purchases.append({
                "id": self._record_id(), "braze_id": profile.braze_id,
                "external_id": profile.external_id, "product_id": product,
                "currency": currency, "price": price, "quantity": quantity, "time": when_text,
                "properties": props, "app_id": app_id, "received_at": now_text,
            })
        self._changed(profile, now_text)


def _hinted_event(
    obj: dict[str, Any], now: datetime
) -> tuple[str, bool, str, datetime, dict[str, Any], str | None] | None:
    """The fields of an event a worker found plain (`plain_event`), without checking again."""
    when = parse_time(obj["time"])
    if when is None:  # cannot happen: the same parser accepted it in the worker
        return None
    return (
        obj["external_id"], obj.get("_update_existing_only", False), obj["name"],
        now if when > now else when, obj.get("properties") or {}, obj.get("app_id"),
    )


def _error(exc: errors.ObjectError, style: str, array: str, index: int) -> dict[str, Any]:
    return {"type": exc.type_value(style), "input_array": array, "index": index}


def _summarise(summary: dict[str, list[Any]], name: str, when: str, count: int) -> None:
    entry = summary.get(name)
    if entry is None:
        summary[name] = [when, when, count]
        return
    if when < entry[0]:
        entry[0] = when
    if when > entry[1]:
        entry[1] = when
    entry[2] += count
