"""Identifier rules of /users/track objects (reference §2.3, §2.4)."""

from __future__ import annotations

from tests.emulator.helpers import attrs, event, track

ONE_PRIMARY = "You must specify only one of 'external_id', 'user_alias' or 'braze_id'"
ALIAS = {"alias_name": "n1", "alias_label": "crm"}


def test_two_primary_identifiers_reject_the_object(emulator):
    body = {"attributes": [
        {"external_id": "u1", "braze_id": "abc", "a": 1},
        {"external_id": "u2", "user_alias": ALIAS, "a": 1},
        attrs("u3", a=1),
    ]}
    response = track(emulator, body)
    assert response.status_code == 201
    payload = response.json()
    assert payload["attributes_processed"] == 1
    assert payload["errors"] == [
        {"type": ONE_PRIMARY, "input_array": "attributes", "index": 0},
        {"type": ONE_PRIMARY, "input_array": "attributes", "index": 1},
    ]
    assert [p["external_id"] for p in emulator.state()["profiles"]] == ["u3"]


def test_object_without_identifier_is_rejected(emulator):
    response = track(emulator, {"attributes": [{"a": 1}], "events": [event("u1")]})
    assert response.status_code == 201
    assert response.json()["errors"] == [{
        "type": "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required",
        "input_array": "attributes", "index": 0,
    }]


def test_external_id_byte_limit(emulator):
    ok = "é" * 493  # 986 bytes
    too_long = "é" * 494  # 988 bytes
    response = track(emulator, {"attributes": [attrs(ok, a=1), attrs(too_long, a=1),
                                               attrs("x" * 988, a=1)]})
    assert response.json()["attributes_processed"] == 1
    assert [e["index"] for e in response.json()["errors"]] == [1, 2]
    emulator.set_settings(error_type_style="code")
    response = track(emulator, {"attributes": [attrs(too_long, a=1), attrs("u", a=1)]})
    assert response.json()["errors"][0]["type"] == "EXTERNAL_USER_ID_TOO_LARGE"


def test_external_id_creates_unless_update_only(emulator):
    track(emulator, {"attributes": [
        attrs("new", a=1), attrs("ghost", a=1, _update_existing_only=True)
    ]})
    ids = [p["external_id"] for p in emulator.state()["profiles"]]
    assert ids == ["new"]
    counters = emulator.state()["counters"]
    assert counters["objects_skipped"]["attributes"] == 1
    assert counters["objects_processed"]["attributes"] == 2


def test_update_only_missing_user_can_be_an_error(emulator):
    emulator.set_settings(update_only_missing_user="error")
    response = track(emulator, {"attributes": [
        attrs("ghost", a=1, _update_existing_only=True), attrs("u1", a=1)
    ]})
    assert response.json()["errors"][0]["index"] == 0
    assert response.json()["attributes_processed"] == 1


def test_braze_id_never_creates_a_profile(emulator):
    response = track(emulator, {"attributes": [{"braze_id": "0" * 24, "a": 1}]})
    assert response.status_code == 400  # the only object was rejected
    assert response.json()["errors"][0]["type"] == "'braze_id' does not match any user"
    assert emulator.state()["profiles"] == []
    emulator.set_settings(unknown_braze_id="ignore")
    response = track(emulator, {"attributes": [{"braze_id": "0" * 24, "a": 1,
                                                "_update_existing_only": False}]})
    assert response.status_code == 201
    assert response.json() == {"message": "success", "attributes_processed": 1}
    assert emulator.state()["profiles"] == []


def test_alias_attributes_default_to_update_only(emulator):
    track(emulator, {"attributes": [{"user_alias": ALIAS, "a": 1}]})
    assert emulator.state()["profiles"] == []
    track(emulator, {"attributes": [{"user_alias": ALIAS, "a": 2,
                                     "_update_existing_only": False}]})
    profiles = emulator.state()["profiles"]
    assert len(profiles) == 1
    assert profiles[0]["user_aliases"] == [ALIAS]
    assert profiles[0]["external_id"] is None
    assert profiles[0]["custom_attributes"] == {"a": 2}
    track(emulator, {"attributes": [{"user_alias": ALIAS, "a": 3}]})
    assert emulator.state()["profiles"][0]["custom_attributes"] == {"a": 3}


def test_alias_events_never_create_profiles_by_default(emulator):
    alias_event = {"user_alias": ALIAS, "name": "e", "time": "2024-01-01T00:00:00Z",
                   "_update_existing_only": False}
    response = track(emulator, {"events": [alias_event]})
    assert response.status_code == 201
    assert emulator.state()["events"] == [] and emulator.state()["profiles"] == []
    emulator.set_settings(alias_events_create_profiles=True)
    track(emulator, {"events": [alias_event]})
    state = emulator.state()
    assert len(state["profiles"]) == 1 and len(state["events"]) == 1


def test_invalid_alias_is_rejected(emulator):
    response = track(emulator, {"attributes": [
        {"user_alias": {"alias_name": "x"}, "a": 1}, attrs("u", a=1)
    ]})
    assert response.json()["errors"][0]["index"] == 0


def test_email_lookup_creates_then_finds(emulator):
    track(emulator, {"attributes": [{"email": "a@b.co", "plan": "x"}]})
    track(emulator, {"attributes": [{"email": "a@b.co", "plan": "y"}]})
    profiles = emulator.state()["profiles"]
    assert len(profiles) == 1
    assert profiles[0]["email"] == "a@b.co" and profiles[0]["external_id"] is None
    assert profiles[0]["custom_attributes"] == {"plan": "y"}


def test_email_wins_over_phone_and_phone_alone_works(emulator):
    track(emulator, {"attributes": [{"phone": "+15550001", "p": 1}]})
    track(emulator, {"attributes": [{"email": "e@x.io", "phone": "+15550002", "q": 1}]})
    profiles = {p["braze_id"]: p for p in emulator.state()["profiles"]}
    assert len(profiles) == 2  # the email matched nobody: a new email-only profile
    track(emulator, {"attributes": [{"phone": "+15550001", "r": 1}]})
    by_phone = [p for p in emulator.state()["profiles"] if p.get("phone") == "+15550001"]
    assert by_phone[0]["custom_attributes"] == {"p": 1, "r": 1}


def test_email_lookup_prefers_profiles_with_external_id(emulator):
    ids = emulator.create_profiles([
        {"external_id": "known", "email": "s@x.io"},
        {"email": "s@x.io"},
    ])
    track(emulator, {"attributes": [{"email": "s@x.io", "hit": True}]})
    assert emulator.profile(braze_id=ids[0])["custom_attributes"] == {"hit": True}
    assert emulator.profile(braze_id=ids[1])["custom_attributes"] == {}


def test_email_lookup_without_external_id_takes_most_recently_updated(emulator):
    ids = emulator.create_profiles([{"email": "m@x.io"}, {"email": "m@x.io"}])
    track(emulator, {"attributes": [{"braze_id": ids[0], "touched": 1}]})
    track(emulator, {"attributes": [{"email": "m@x.io", "hit": True}]})
    assert emulator.profile(braze_id=ids[0])["custom_attributes"] == {"touched": 1, "hit": True}


def test_new_external_id_with_known_email_creates_a_duplicate(emulator):
    emulator.create_profiles([{"email": "d@x.io"}])
    track(emulator, {"attributes": [attrs("u9", email="d@x.io")]})
    profiles = emulator.state()["profiles"]
    assert len(profiles) == 2
    assert all(p["email"] == "d@x.io" for p in profiles)


def test_email_with_primary_is_an_attribute(emulator):
    track(emulator, {"attributes": [attrs("u1", email="first@x.io")]})
    track(emulator, {"attributes": [attrs("u1", email="second@x.io")]})
    assert emulator.profile(external_id="u1")["email"] == "second@x.io"
    assert emulator.state()["data_points"]["attributes"] == 2


def test_invalid_lookup_email_is_rejected(emulator):
    response = track(emulator, {"attributes": [{"email": "not-an-email", "a": 1}]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == (
        "The value provided for the 'email' field is not a valid email."
    )


def test_blocked_external_id(emulator):
    emulator.set_settings(blocked_external_ids=["spam"])
    response = track(emulator, {"attributes": [attrs("spam", a=1), attrs("ok", a=1)]})
    assert response.json()["errors"][0]["type"] == (
        "provided external_id is blacklisted and disallowed"
    )
