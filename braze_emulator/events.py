"""Event and purchase objects of /users/track (reference §2.6, §2.7). Pure: no state, no HTTP."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from braze_emulator import errors
from braze_emulator.settings import Settings
from braze_emulator.timeparse import parse_time

RESERVED_PROPERTIES = frozenset({"time", "event_name"})
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_GOOD_KEYS: set[str] = set()  # property names already known to be valid


def parse_time_field(obj: dict[str, Any], now: datetime) -> datetime:
    """`time` is required; a time in the future is replaced by now."""
    raw = obj.get("time")
    if raw is None:
        raise errors.MissingTime()
    value = parse_time(raw) if isinstance(raw, str) else None
    if value is None:
        raise errors.InvalidTime()
    return now if value > now else value


_PLAIN_EVENT_KEYS = frozenset(
    {"external_id", "name", "time", "properties", "app_id", "_update_existing_only"}
)


def plain_event(
    obj: Any, now: datetime, max_len: int, max_name: int, max_props: int
) -> tuple[str, bool, str, datetime, dict[str, Any], str | None] | None:
    """The fast path of the common event: an external_id, flat properties with known names.

    Returns (external_id, update_only, name, time, properties, app_id) when every rule is
    already met, or None to send the object down the full validation (parse_identifier and
    parse_event), which gives the same result for the objects accepted here.
    """
    if type(obj) is not dict or not obj.keys() <= _PLAIN_EVENT_KEYS:
        return None
    external_id = obj.get("external_id")
    if type(external_id) is not str or not 0 < len(external_id) <= 246:
        return None
    update_only = obj.get("_update_existing_only", False)
    if update_only is not True and update_only is not False:
        return None
    name = obj.get("name")
    if type(name) is not str or not 0 < len(name) <= max_name:
        return None
    raw_time = obj.get("time")
    when = parse_time(raw_time) if type(raw_time) is str else None
    if when is None:
        return None
    props = obj.get("properties")
    if props is None:
        props = {}
    elif type(props) is not dict or len(props) > max_props:
        return None
    else:
        if not props.keys() <= _GOOD_KEYS and not _known_keys(props):
            return None
        for value in props.values():
            kind = type(value)
            if kind is str:
                if len(value) > max_len:
                    return None
            elif kind is not bool and kind is not int and kind is not float and value is not None:
                return None
    app_id = obj.get("app_id")
    if app_id is not None and type(app_id) is not str:
        return None
    return external_id, update_only, name, (now if when > now else when), props, app_id


def _known_keys(props: dict[str, Any]) -> bool:
    """Check property names not seen before; remember the valid ones."""
    good = _GOOD_KEYS
    for key in props:
        if key not in good:
            if not key or len(key) > 255 or key[0] == "$" or key in RESERVED_PROPERTIES:
                return False
            if len(good) < 100_000:
                good.add(key)
    return True


def parse_event(
    obj: dict[str, Any], now: datetime, settings: Settings
) -> tuple[str, datetime, dict[str, Any], str | None]:
    name = obj.get("name")
    if name is None:
        raise errors.MissingEventName()
    if not isinstance(name, str) or not name or len(name) > settings.max_event_name_length:
        raise errors.InvalidEventName()
    when = parse_time_field(obj, now)
    limit = settings.event_nested_properties_bytes
    props = parse_properties(obj.get("properties"), limit, settings)
    return name, when, props, _app_id(obj)


def parse_purchase(
    obj: dict[str, Any], now: datetime, settings: Settings
) -> tuple[str, str, float, int, datetime, dict[str, Any], str | None]:
    product = obj.get("product_id")
    if not isinstance(product, str) or not product or len(product) > 255:
        raise errors.InvalidProductId()
    currency = obj.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise errors.InvalidCurrency()
    price = obj.get("price")
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise errors.InvalidPrice()
    quantity = obj.get("quantity", 1)
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 1 <= quantity <= settings.max_purchase_quantity
    ):
        raise errors.InvalidQuantity()
    when = parse_time_field(obj, now)
    props = parse_properties(
        obj.get("properties"), settings.purchase_nested_properties_bytes, settings
    )
    return product, currency, float(price), quantity, when, props, _app_id(obj)


def _app_id(obj: dict[str, Any]) -> str | None:
    app_id = obj.get("app_id")
    if app_id is not None and not isinstance(app_id, str):
        raise errors.InvalidProperties("'app_id' must be a string")
    return app_id


def parse_properties(raw: Any, nested_limit: int, settings: Settings) -> dict[str, Any]:
    """Key rules, value rules, the 256-property cap (extras dropped) and the nested size limit."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise errors.InvalidProperties("'properties' must be an object")
    if len(raw) > settings.max_event_properties:
        raw = dict(list(raw.items())[: settings.max_event_properties])
    nested = False
    max_len = settings.max_string_length
    good = _GOOD_KEYS
    for key, value in raw.items():
        if key not in good:
            if not key or len(key) > 255 or key[0] == "$":
                raise errors.InvalidProperties(
                    "Property names must be 1-255 characters and must not start with '$'"
                )
            if key in RESERVED_PROPERTIES:
                raise errors.ReservedPropertyName()
            if len(good) < 100_000:
                good.add(key)
        kind = type(value)
        if kind is str:
            if len(value) > max_len:
                if settings.string_overflow != "truncate":
                    raise errors.StringTooLong()
                raw = {**raw, key: value[:max_len]}
        elif kind is list or kind is dict:
            nested = True
        elif not (value is None or kind is bool or kind is int or kind is float):
            raise errors.InvalidProperties()
    if nested and len(json.dumps(raw, separators=(",", ":")).encode()) > nested_limit:
        raise errors.PropertiesTooLarge(
            f"'properties' with arrays or objects must be at most {nested_limit // 1024} KB"
        )
    return raw
