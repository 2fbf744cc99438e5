"""Attribute objects of /users/track: validation into operations (reference §2.5, §5).

`parse_attributes` turns one object into a list of operations without touching any state:
(op, name, value, data_points, is_nested). The model applies them. Pure: no HTTP, no state.
"""

from __future__ import annotations

import json
import re
import uuid
from functools import lru_cache
from itertools import chain, repeat
from operator import itemgetter
from typing import Any
from zoneinfo import available_timezones

from braze_emulator import errors
from braze_emulator.identifiers import IDENTIFIER_KEYS, valid_email
from braze_emulator.settings import Settings
from braze_emulator.timeparse import parse_time

Op = tuple[str, str, Any, int, bool]
SCALARS = (str, bool, int, float)
SUBSCRIBE_STATES = frozenset({"opted_in", "subscribed", "unsubscribed"})
GENDERS = frozenset({"M", "F", "O", "N", "P"})
_DOB = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_BAD_NESTED_KEY = re.compile(r"[\s.$]")

# Reserved profile fields. Billed ones cost a data point each time they are set (§5).
BILLED_FIELDS = frozenset(
    {
        "first_name", "last_name", "email", "phone", "gender", "dob", "home_city",
        "time_zone", "current_location", "country", "language", "date_of_first_session",
        "date_of_last_session", "marked_email_as_spam_at", "facebook", "twitter", "image_url",
    }
)
FREE_FIELDS = frozenset(
    {
        "email_subscribe", "push_subscribe", "subscription_groups", "push_tokens",
        "push_token_import", "email_open_tracking_disabled", "email_click_tracking_disabled",
    }
)
IGNORED_FIELDS = frozenset({"alias_name", "alias_label", "bio"})
RESERVED_FIELDS = BILLED_FIELDS | FREE_FIELDS | IGNORED_FIELDS | IDENTIFIER_KEYS


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_attributes(
    obj: dict[str, Any], id_type: str, settings: Settings
) -> tuple[dict[str, Any], list[Op], bool, bool]:
    """Return (sets, operations, poisoned, needs_check).

    `sets`: plain custom attribute writes (name -> scalar, None unsets), one data point each;
    `operations`: everything else; `poisoned`: a nested value was invalid (§2.5 gotcha);
    `needs_check`: an operation depends on the current value (inc, add/remove).
    """
    sets: dict[str, Any] = {}
    ops: list[Op] = []
    poisoned = False
    max_len = settings.max_string_length
    for name, value in obj.items():
        if name in RESERVED_FIELDS:
            if name in IDENTIFIER_KEYS or name in IGNORED_FIELDS:
                continue
            if (name == "email" and id_type == "email") or (name == "phone" and id_type == "phone"):
                continue  # the lookup identifier, not an attribute write
            op = _profile_field(name, value, settings)
            if op is not None:
                ops.append(op)
            continue
        if not name or name[0] == "$" or len(name) > 255:
            raise errors.InvalidAttributeName()
        kind = type(value)
        if kind is str:
            sets[name] = value if len(value) <= max_len else _long_string(value, settings)
        elif kind is bool or kind is int or kind is float or value is None:
            sets[name] = value
        elif kind is list:
            ops.append(_array_set(name, value, settings))
        elif kind is dict:
            op, bad = _dict_value(name, value, obj.get("_merge_objects") is True, settings)
            poisoned = poisoned or bad
            ops.append(op)
        else:
            raise errors.InvalidAttributeValue()
    needs_check = False
    for op in ops:
        if op[0] == "inc" or op[0] == "array":
            needs_check = True
    return sets, ops, poisoned, needs_check


_PLAIN_ID_KEYS = frozenset({"external_id", "_update_existing_only"})
_SLOW_KEYS = RESERVED_FIELDS - _PLAIN_ID_KEYS
_GOOD_NAMES: set[str] = set()  # names already known to be plain custom attribute names


def plain_external_id(obj: dict[str, Any], max_len: int) -> tuple[str, Any, bool] | None:
    """The fast path of the common object: an external_id and plain custom values only.

    Returns the identifier tuple when every rule is already met (so the object can be applied
    with Store.apply_plain), or None to send it down the full validation.
    Non-empty external_ids of at most 246 characters are within 987 bytes in any encoding.
    """
    external_id = obj.get("external_id")
    if type(external_id) is not str or not 0 < len(external_id) <= 246:
        return None
    if "braze_id" in obj or "user_alias" in obj:
        return None
    update_only = obj.get("_update_existing_only", False)
    if update_only is not True and update_only is not False:
        return None
    for value in obj.values():
        kind = type(value)
        if kind is str:
            if len(value) > max_len:
                return None
        elif kind is not bool and kind is not int and kind is not float and value is not None:
            return None
    good = _GOOD_NAMES
    if not obj.keys() <= good:
        for name in obj:
            if name not in good:
                if not name or name[0] == "$" or len(name) > 255 or name in _SLOW_KEYS:
                    return None
                if len(good) < 100_000:
                    good.add(name)
    return "external_id", external_id, update_only


_PLAIN_TYPES = frozenset({str, bool, int, float, type(None)})


def all_plain(objects: list[Any], max_len: int) -> bool:
    """True when every object passes `plain_external_id`, checked in bulk with C-level
    iteration (map, set and chain) rather than object by object; False means: check them one
    by one."""
    good = _GOOD_NAMES
    if set(map(type, objects)) != {dict} or not all(map(good.issuperset, objects)):
        return False
    try:
        external_ids = list(map(itemgetter("external_id"), objects))
    except KeyError:
        return False
    if set(map(type, external_ids)) != {str}:
        return False
    lengths = list(map(len, external_ids))
    if min(lengths) == 0 or max(lengths) > 246:
        return False
    if any(map(dict.__contains__, objects, repeat("_update_existing_only"))):
        flags = [obj.get("_update_existing_only", False) for obj in objects]
        if not set(map(type, flags)) <= {bool}:
            return False
    values = list(chain.from_iterable(map(dict.values, objects)))
    if not set(map(type, values)) <= _PLAIN_TYPES:
        return False
    strings = [value for value in values if value.__class__ is str]
    return max(map(len, strings), default=0) <= max_len


def _long_string(value: str, settings: Settings) -> str:
    if settings.string_overflow == "truncate":
        return value[: settings.max_string_length]
    raise errors.StringTooLong()


def _profile_field(name: str, value: Any, settings: Settings) -> Op | None:
    billed = 1 if name in BILLED_FIELDS else 0
    if value is None:
        return ("field", name, None, billed, False)
    if name == "email":
        if not valid_email(value):
            raise errors.EmailBadFormat()
    elif name in ("email_subscribe", "push_subscribe"):
        if value not in SUBSCRIBE_STATES:
            raise (
                errors.BadEmailSubscriptionState()
                if name == "email_subscribe"
                else errors.BadPushSubscriptionState()
            )
    elif name == "gender":
        if not isinstance(value, str) or value.upper() not in GENDERS:
            raise errors.InvalidProfileField("'gender' must be M, F, O, N, P or null")
        value = value.upper()
    elif name == "dob":
        if not isinstance(value, str) or not _DOB.match(value) or parse_time(value) is None:
            raise errors.InvalidProfileField("'dob' must be YYYY-MM-DD")
    elif name == "country":
        if not isinstance(value, str) or not _COUNTRY.match(value):
            value = None  # an invalid country is set to NULL
        else:
            value = value.upper()
    elif name == "time_zone":
        if not isinstance(value, str) or value not in _time_zones():
            return None  # invalid time zones are ignored
    elif name == "current_location":
        _location(value)
    elif name in ("date_of_first_session", "date_of_last_session", "marked_email_as_spam_at"):
        if not isinstance(value, str) or parse_time(value) is None:
            raise errors.InvalidProfileField(f"'{name}' must be a time")
    elif name in ("email_open_tracking_disabled", "email_click_tracking_disabled",
                  "push_token_import"):
        if not isinstance(value, bool):
            raise errors.InvalidProfileField(f"'{name}' must be a boolean")
    elif name == "push_tokens":
        _push_tokens(value)
    elif name == "subscription_groups":
        _subscription_groups(value)
    elif not isinstance(value, str):
        raise errors.InvalidProfileField(f"'{name}' must be a string")
    elif len(value) > settings.max_string_length:
        value = _long_string(value, settings)
    return ("field", name, value, billed, False)


def _location(value: Any) -> None:
    if not isinstance(value, dict) or set(value) != {"longitude", "latitude"}:
        raise errors.BadLocation()
    for part in ("longitude", "latitude"):
        number = value[part]
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise errors.BadLocation()
    if not (-180 <= value["longitude"] <= 180 and -90 <= value["latitude"] <= 90):
        raise errors.BadLocation()


def _push_tokens(value: Any) -> None:
    if not isinstance(value, list):
        raise errors.BadPushToken()
    for token in value:
        if (
            not isinstance(token, dict)
            or not isinstance(token.get("app_id"), str)
            or not isinstance(token.get("token"), str)
            or not token["token"]
        ):
            raise errors.BadPushToken()
        device = token.get("device_id")
        ok = isinstance(device, str) and 8 <= len(device.encode()) <= 255
        if device is not None and not ok:
            raise errors.BadPushToken("'device_id' must be 8-255 bytes")


def _subscription_groups(value: Any) -> None:
    if not isinstance(value, list):
        raise errors.BadSubscriptionGroup("'subscription_groups' must be an array")
    for group in value:
        if not isinstance(group, dict):
            raise errors.BadSubscriptionGroup()
        try:
            uuid.UUID(str(group.get("subscription_group_id")))
        except ValueError:
            raise errors.BadSubscriptionGroup("'subscription_group_id' must be a UUID") from None
        if group.get("subscription_state") not in ("subscribed", "unsubscribed"):
            raise errors.BadSubscriptionGroup(
                "'subscription_state' must be 'subscribed' or 'unsubscribed'"
            )


def _array_set(name: str, value: list[Any], settings: Settings) -> Op:
    if value and all(type(item) is dict for item in value):
        size = _nested_size(value)
        if size > settings.nested_attribute_bytes:
            raise errors.NestedTooLarge()
        for item in value:
            _check_nested(item, settings)
        return ("set", name, value, max(1, sum(_count_keys(item) for item in value)), True)
    return ("set", name, _unique(value, settings), 1, False)


def _unique(values: list[Any], settings: Settings) -> list[Any]:
    """Array-of-strings rules: unique values, a repeated value moves to the end, capped."""
    for item in values:
        kind = type(item)
        if kind is str:
            if len(item) > settings.max_string_length:
                raise errors.StringTooLong()
        elif item is None or not (kind is int or kind is float or kind is bool):
            raise errors.InvalidAttributeValue("Array attributes hold strings or numbers only")
    if len(set(values)) != len(values):
        values = list(reversed(dict.fromkeys(reversed(values))))
    return cap_array(values, settings)


def cap_array(values: list[Any], settings: Settings) -> list[Any]:
    limit = settings.array_max_length
    if len(values) <= limit:
        return values
    if settings.array_overflow == "drop_oldest":
        return values[len(values) - limit :]
    raise errors.ArrayTooLong(f"Array attributes hold at most {limit} elements")


def _dict_value(
    name: str, value: dict[str, Any], merge: bool, settings: Settings
) -> tuple[Op, bool]:
    keys = value.keys()
    if keys == {"inc"}:
        step = value["inc"]
        if isinstance(step, bool) or not isinstance(step, int | float):
            raise errors.InvalidAttributeValue("'inc' takes a number")
        return ("inc", name, step, 1, False), False
    if keys and keys <= {"add", "remove"}:
        points = 0
        for part in ("add", "remove"):
            items = value.get(part, [])
            if not isinstance(items, list):
                raise errors.InvalidAttributeValue(f"'{part}' takes an array")
            for item in items:
                if type(item) not in SCALARS:
                    raise errors.InvalidAttributeValue("Array attributes hold strings or numbers")
                if type(item) is str and len(item) > settings.max_string_length:
                    raise errors.StringTooLong()
            points += len(items)
        return ("array", name, value, max(1, points), False), False
    if keys and keys <= {"$add", "$update", "$remove"}:
        if not merge:
            raise errors.InvalidAttributeValue(
                "'$add', '$update' and '$remove' need '_merge_objects': true"
            )
        return _object_array_op(name, value, settings), False
    if _nested_size(value) > settings.nested_attribute_bytes:
        raise errors.NestedTooLarge()
    poisoned = not _check_nested(value, settings)
    return ("merge" if merge else "set", name, value, max(1, _count_keys(value)), True), poisoned


def _object_array_op(name: str, value: dict[str, Any], settings: Settings) -> Op:
    points = 0
    for item in value.get("$add", []):
        if not isinstance(item, dict):
            raise errors.InvalidAttributeValue("'$add' takes objects")
        _check_nested(item, settings)
        points += _count_keys(item)
    for item in value.get("$update", []):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("$identifier_key"), str)
            or "$identifier_value" not in item
            or not isinstance(item.get("$new_object"), dict)
        ):
            raise errors.InvalidAttributeValue(
                "'$update' takes {$identifier_key, $identifier_value, $new_object}"
            )
        _check_nested(item["$new_object"], settings)
        points += _count_keys(item["$new_object"])
    for item in value.get("$remove", []):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("$identifier_key"), str)
            or "$identifier_value" not in item
        ):
            raise errors.InvalidAttributeValue(
                "'$remove' takes {$identifier_key, $identifier_value}"
            )
        points += 1
    if _nested_size(value) > settings.nested_attribute_bytes:
        raise errors.NestedTooLarge()
    return ("objects", name, value, max(1, points), True)


def _nested_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _count_keys(value: Any) -> int:
    if isinstance(value, dict):
        if value.keys() == {"$time"}:
            return 0
        return sum(1 + _count_keys(child) for child in value.values())
    if isinstance(value, list):
        return sum(_count_keys(child) for child in value)
    return 0


def _check_nested(value: Any, settings: Settings) -> bool:
    """Raise for structural errors (names, lengths); return False for a poisoning value."""
    if isinstance(value, dict):
        if value.keys() == {"$time"}:
            return isinstance(value["$time"], str) and parse_time(value["$time"]) is not None
        ok = True
        for key, child in value.items():
            if not key or len(key) > 255 or _BAD_NESTED_KEY.search(key):
                raise errors.InvalidAttributeName(
                    "Nested keys must be 1-255 characters without spaces, '.' or '$'"
                )
            ok = _check_nested(child, settings) and ok
        return ok
    if isinstance(value, list):
        ok = True
        for child in value:
            ok = _check_nested(child, settings) and ok
        return ok
    if isinstance(value, str):
        if len(value) > settings.max_string_length:
            raise errors.StringTooLong()
        return True
    return value is not None
