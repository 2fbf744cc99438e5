"""Identifier rules of /users/track objects (reference §2.3, §2.4). Pure: no state, no HTTP."""

from __future__ import annotations

import re
from typing import Any

from braze_emulator import errors
from braze_emulator.settings import Settings

EXTERNAL_ID_MAX_BYTES = 987
IDENTIFIER_KEYS = frozenset(
    {"external_id", "braze_id", "user_alias", "_update_existing_only", "_merge_objects"}
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_email(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 255 and _EMAIL.match(value) is not None


def parse_identifier(obj: dict[str, Any], array: str, settings: Settings) -> tuple[str, Any, bool]:
    """Return (identifier type, value, update-only) for one object, or raise its ObjectError.

    Types: external_id, braze_id, user_alias (value: (alias_name, alias_label)), email, phone.
    """
    external_id = obj.get("external_id")
    braze_id = obj.get("braze_id")
    alias = obj.get("user_alias")
    present = (external_id is not None) + (braze_id is not None) + (alias is not None)
    if present > 1:
        raise errors.MultipleIdentifiers()
    explicit = obj.get("_update_existing_only")
    if explicit is not None and not isinstance(explicit, bool):
        raise errors.InvalidIdentifier("'_update_existing_only' must be a boolean")
    if external_id is not None:
        if not isinstance(external_id, str) or not external_id:
            raise errors.InvalidIdentifier("'external_id' must be a non-empty string")
        if len(external_id) * 4 > EXTERNAL_ID_MAX_BYTES and (
            len(external_id.encode()) > EXTERNAL_ID_MAX_BYTES
        ):
            raise errors.ExternalIdTooLarge()
        if settings.blocked_external_ids and external_id in settings.blocked_external_ids:
            raise errors.BlockedExternalId()
        return "external_id", external_id, bool(explicit)
    if braze_id is not None:
        if not isinstance(braze_id, str) or not braze_id:
            raise errors.InvalidIdentifier("'braze_id' must be a non-empty string")
        return "braze_id", braze_id, True  # a braze_id never creates a profile
    if alias is not None:
        if (
            not isinstance(alias, dict)
            or not isinstance(alias.get("alias_name"), str)
            or not isinstance(alias.get("alias_label"), str)
            or not alias["alias_name"]
            or not alias["alias_label"]
        ):
            raise errors.InvalidIdentifier(
                "'user_alias' must have string 'alias_name' and 'alias_label'"
            )
        key = (alias["alias_name"], alias["alias_label"])
        if array == "attributes" or settings.alias_events_create_profiles:
            return "user_alias", key, True if explicit is None else explicit
        return "user_alias", key, True
    email = obj.get("email")
    if email is not None:
        if not valid_email(email):
            raise errors.EmailBadFormat()
        return "email", email, bool(explicit)
    phone = obj.get("phone")
    if phone is not None:
        if not isinstance(phone, str) or not phone:
            raise errors.InvalidProfileField("'phone' must be a non-empty string")
        return "phone", phone, bool(explicit)
    raise errors.MissingIdentifier()
