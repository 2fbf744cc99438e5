"""POST /users/export/ids (reference §4)."""

from __future__ import annotations

import time

from tests.emulator.helpers import attrs, event, export, track

FIELDS = ["external_id", "braze_id", "custom_attributes", "email", "user_aliases",
          "custom_events", "first_name"]


def test_export_by_external_ids_with_invalid_ids(emulator):
    track(emulator, {"attributes": [attrs("u1", plan="pro", first_name="Ada")],
                     "events": [event("u1"), event("u1")]})
    response = export(emulator, {"external_ids": ["u1", "nobody"], "fields_to_export": FIELDS})
    assert response.status_code == 200
    payload = response.json()
    assert payload["message"] == "success"
    assert payload["invalid_user_ids"] == ["nobody"]
    (user,) = payload["users"]
    assert user["external_id"] == "u1" and user["first_name"] == "Ada"
    assert user["custom_attributes"] == {"plan": "pro"}
    assert user["custom_events"][0]["count"] == 2
    assert "email" not in user and "user_aliases" not in user  # least data possible


def test_fields_to_export_projects(emulator):
    track(emulator, {"attributes": [attrs("u1", plan="pro", email="a@b.co")]})
    user = export(emulator, {"external_ids": ["u1"], "fields_to_export": ["email"]}).json()
    assert user["users"] == [{"email": "a@b.co"}]


def test_fields_to_export_required_and_checked(emulator):
    track(emulator, {"attributes": [attrs("u1", a=1)]})
    response = export(emulator, {"external_ids": ["u1"]})
    assert response.status_code == 400
    response = export(emulator, {"external_ids": ["u1"], "fields_to_export": ["nope"]})
    assert response.status_code == 400 and "nope" in response.json()["message"]
    emulator.set_settings(export_require_fields=False, export_reject_unknown_fields=False)
    response = export(emulator, {"external_ids": ["u1"]})
    assert response.json()["users"][0]["custom_attributes"] == {"a": 1}
    response = export(emulator, {"external_ids": ["u1"], "fields_to_export": ["nope"]})
    assert response.json()["users"] == [{}]


def test_aliases_braze_id_email_and_phone(emulator):
    alias = {"alias_name": "a1", "alias_label": "crm"}
    ids = emulator.create_profiles([
        {"user_aliases": [alias], "custom_attributes": {"x": 1}},
        {"email": "e@x.io", "phone": "+4712345678"},
    ])
    fields = {"fields_to_export": ["braze_id", "custom_attributes", "user_aliases"]}
    users = export(emulator, {"user_aliases": [alias], **fields}).json()["users"]
    assert users[0]["braze_id"] == ids[0] and users[0]["user_aliases"] == [alias]
    assert export(emulator, {"braze_id": ids[1], **fields}).json()["users"][0]["braze_id"] == ids[1]
    by_email = export(emulator, {"email_address": "e@x.io", **fields}).json()
    assert [u["braze_id"] for u in by_email["users"]] == [ids[1]]
    by_phone = export(emulator, {"phone": "+4712345678", **fields}).json()
    assert [u["braze_id"] for u in by_phone["users"]] == [ids[1]]
    missing = export(emulator, {"braze_id": "f" * 24, **fields}).json()
    assert missing["users"] == [] and missing["invalid_user_ids"] == ["f" * 24]


def test_export_limits(emulator):
    fields = {"fields_to_export": ["external_id"]}
    ok = export(emulator, {"external_ids": [f"u{i}" for i in range(50)], **fields})
    assert ok.status_code == 200 and len(ok.json()["invalid_user_ids"]) == 50
    too_many = export(emulator, {
        "external_ids": [f"u{i}" for i in range(49)],
        "user_aliases": [{"alias_name": "a", "alias_label": "b"}] * 2, **fields,
    })
    assert too_many.status_code == 400
    assert too_many.json()["message"] == (
        "The max number of external_ids and aliases per request was exceeded"
    )
    two_singles = export(emulator, {"email_address": "a@b.co", "phone": "+1", **fields})
    assert two_singles.status_code == 400
    assert export(emulator, {"email_address": ["a@b.co"], **fields}).status_code == 400
    assert export(emulator, fields).status_code == 400
    assert export(emulator, {"external_ids": "u1", **fields}).status_code == 400


def test_export_needs_its_permission(emulator):
    emulator.add_key("track-only", ["users.track"])
    response = export(emulator, {"external_ids": ["u1"], "fields_to_export": ["external_id"]},
                      key="track-only")
    assert response.status_code == 403
    emulator.add_key("reader", ["users.export.ids"])
    response = export(emulator, {"external_ids": ["u1"], "fields_to_export": ["external_id"]},
                      key="reader")
    assert response.status_code == 200


def test_export_lag(emulator):
    emulator.set_latency(export_lag_ms=400)
    body = {"external_ids": ["u1"], "fields_to_export": ["custom_attributes"]}
    track(emulator, {"attributes": [attrs("u1", v=1)]})
    assert export(emulator, body).json()["invalid_user_ids"] == ["u1"]
    time.sleep(0.5)
    assert export(emulator, body).json()["users"] == [{"custom_attributes": {"v": 1}}]
    track(emulator, {"attributes": [attrs("u1", v=2)]})
    assert export(emulator, body).json()["users"] == [{"custom_attributes": {"v": 1}}]
    time.sleep(0.5)
    assert export(emulator, body).json()["users"] == [{"custom_attributes": {"v": 2}}]
    assert emulator.profile(external_id="u1")["custom_attributes"] == {"v": 2}  # state is live
