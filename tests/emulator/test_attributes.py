"""Attribute values and data points (reference §2.5, §5)."""

from __future__ import annotations

from tests.emulator.helpers import attrs, track


def custom(emulator, external_id="u1"):
    return emulator.profile(external_id=external_id)["custom_attributes"]


def points(emulator):
    return emulator.state(include="data_points")["data_points"]


def test_scalar_types_and_null_unsets(emulator):
    track(emulator, {"attributes": [attrs("u1", s="x", i=2, f=1.5, b=False, d="2024-01-01")]})
    assert custom(emulator) == {"s": "x", "i": 2, "f": 1.5, "b": False, "d": "2024-01-01"}
    track(emulator, {"attributes": [attrs("u1", s=None, missing=None)]})
    assert custom(emulator) == {"i": 2, "f": 1.5, "b": False, "d": "2024-01-01"}
    assert points(emulator)["attributes"] == 7  # each set counts, a null too


def test_unchanged_values_still_cost(emulator):
    for _ in range(3):
        track(emulator, {"attributes": [attrs("u1", plan="pro")]})
    assert points(emulator) == {"total": 3, "attributes": 3, "events": 0, "purchases": 0}
    assert emulator.profile(external_id="u1")["data_points"] == 3


def test_increment(emulator):
    track(emulator, {"attributes": [attrs("u1", n={"inc": 2})]})
    track(emulator, {"attributes": [attrs("u1", n={"inc": -5})]})
    assert custom(emulator) == {"n": -3}
    track(emulator, {"attributes": [attrs("u1", word="x")]})
    response = track(emulator, {"attributes": [attrs("u1", word={"inc": 1}), attrs("u2", a=1)]})
    assert response.json()["errors"][0]["index"] == 0
    assert custom(emulator)["word"] == "x"
    response = track(emulator, {"attributes": [attrs("u1", n={"inc": "1"}), attrs("u2", a=1)]})
    assert response.json()["errors"][0]["index"] == 0


def test_array_set_add_remove_unique_and_reorder(emulator):
    track(emulator, {"attributes": [attrs("u1", tags=["a", "b", "a", "c"])]})
    assert custom(emulator)["tags"] == ["b", "a", "c"]  # duplicates collapse, last one kept
    before = points(emulator)["attributes"]
    track(emulator, {"attributes": [attrs("u1", tags={"add": ["b", "d"], "remove": ["c"]})]})
    assert custom(emulator)["tags"] == ["a", "b", "d"]  # a re-added value moves to the end
    assert points(emulator)["attributes"] - before == 3  # one per value added or removed
    track(emulator, {"attributes": [attrs("u1", tags={"remove": ["zzz"]})]})
    assert custom(emulator)["tags"] == ["a", "b", "d"]
    assert points(emulator)["attributes"] - before == 4  # a no-op remove still costs
    track(emulator, {"attributes": [attrs("u2", fresh={"add": ["x"]})]})
    assert custom(emulator, "u2") == {"fresh": ["x"]}


def test_array_cap_rejects_by_default_and_can_drop_oldest(emulator):
    values = [f"v{i}" for i in range(26)]
    response = track(emulator, {"attributes": [attrs("u1", big=values), attrs("u2", a=1)]})
    assert response.json()["errors"][0]["index"] == 0
    track(emulator, {"attributes": [attrs("u1", big=values[:25])]})
    response = track(emulator, {"attributes": [attrs("u1", big={"add": ["new"]}),
                                               attrs("u2", a=1)]})
    assert response.json()["errors"][0]["index"] == 0
    assert len(custom(emulator)["big"]) == 25
    emulator.set_settings(array_overflow="drop_oldest")
    track(emulator, {"attributes": [attrs("u1", big={"add": ["new"]})]})
    assert custom(emulator)["big"] == values[1:25] + ["new"]
    emulator.set_limits(array_max_length=30)
    track(emulator, {"attributes": [attrs("u3", big=values)]})
    assert len(custom(emulator, "u3")["big"]) == 26


def test_arrays_hold_scalars_only(emulator):
    response = track(emulator, {"attributes": [attrs("u1", bad=["a", None]),
                                               attrs("u1", bad=["a", ["b"]]),
                                               attrs("u2", a=1)]})
    assert [e["index"] for e in response.json()["errors"]] == [0, 1]


def test_nested_object_replaces_unless_merge(emulator):
    track(emulator, {"attributes": [attrs("u1", addr={"city": "Oslo", "geo": {"lat": 1}})]})
    track(emulator, {"attributes": [attrs("u1", addr={"zip": "0150"})]})
    assert custom(emulator)["addr"] == {"zip": "0150"}
    track(emulator, {"attributes": [
        attrs("u1", _merge_objects=True, addr={"city": "Oslo", "geo": {"lng": 2}})
    ]})
    assert custom(emulator)["addr"] == {"zip": "0150", "city": "Oslo", "geo": {"lng": 2}}
    track(emulator, {"attributes": [
        attrs("u1", _merge_objects=True, addr={"geo": {"lat": 1}})
    ]})
    assert custom(emulator)["addr"]["geo"] == {"lng": 2, "lat": 1}


def test_nested_data_points_count_every_key(emulator):
    track(emulator, {"attributes": [attrs("u1", o={"a": 1, "b": {"c": 2, "d": 3}})]})
    assert points(emulator)["attributes"] == 4


def test_nested_poison_drops_every_nested_update_in_the_request(emulator):
    body = {"attributes": [
        attrs("u1", good={"x": 1}, flat=1),
        attrs("u2", bad={"when": {"$time": "not a time"}}),
        attrs("u3", alsobad={"y": None}),
    ]}
    response = track(emulator, body)
    assert response.status_code == 201
    assert response.json()["attributes_processed"] == 3
    assert custom(emulator, "u1") == {"flat": 1}
    assert custom(emulator, "u2") == {}
    emulator.reset()
    emulator.set_settings(nested_poison=False)
    track(emulator, body)
    assert custom(emulator, "u1") == {"good": {"x": 1}, "flat": 1}


def test_nested_time_and_key_rules(emulator):
    track(emulator, {"attributes": [attrs("u1", o={"born": {"$time": "1980-01-01"}})]})
    assert custom(emulator)["o"] == {"born": {"$time": "1980-01-01"}}
    bad_keys = [{"a b": 1}, {"a.b": 1}, {"$a": 1}, {"": 1}, {"k" * 256: 1}]
    body = {"attributes": [attrs("u1", o=value) for value in bad_keys] + [attrs("u2", a=1)]}
    response = track(emulator, body)
    assert [e["index"] for e in response.json()["errors"]] == [0, 1, 2, 3, 4]


def test_nested_size_limit(emulator):
    big = {f"k{i}": "x" * 200 for i in range(520)}  # over 100 KB
    response = track(emulator, {"attributes": [attrs("u1", o=big), attrs("u2", a=1)]})
    assert response.json()["errors"][0]["index"] == 0


def test_array_of_objects_add_update_remove(emulator):
    track(emulator, {"attributes": [attrs("u1", pets=[{"id": 1, "n": "a"}, {"id": 2, "n": "b"}])]})
    track(emulator, {"attributes": [attrs("u1", _merge_objects=True, pets={
        "$add": [{"id": 3, "n": "c"}],
        "$update": [{"$identifier_key": "id", "$identifier_value": 1,
                     "$new_object": {"n": "A"}}],
        "$remove": [{"$identifier_key": "id", "$identifier_value": 2}],
    })]})
    assert custom(emulator)["pets"] == [{"id": 1, "n": "A"}, {"id": 3, "n": "c"}]
    response = track(emulator, {"attributes": [attrs("u1", pets={"$add": [{"id": 4}]}),
                                               attrs("u2", a=1)]})
    assert response.json()["errors"][0]["index"] == 0  # needs _merge_objects


def test_strings_over_255_rejected_or_truncated(emulator):
    response = track(emulator, {"attributes": [attrs("u1", s="x" * 256), attrs("u1", t="y" * 255)]})
    assert response.json()["errors"][0]["index"] == 0
    assert custom(emulator) == {"t": "y" * 255}
    emulator.set_settings(string_overflow="truncate")
    track(emulator, {"attributes": [attrs("u1", s="x" * 300)]})
    assert custom(emulator)["s"] == "x" * 255


def test_invalid_attribute_names(emulator):
    body = {"attributes": [attrs("u1", **{"$bad": 1}), attrs("u1", **{"": 1}),
                           attrs("u1", **{"n" * 256: 1}), attrs("u1", **{"Email": "kept"})]}
    response = track(emulator, body)
    assert [e["index"] for e in response.json()["errors"]] == [0, 1, 2]
    assert custom(emulator) == {"Email": "kept"}  # names are case-sensitive


def test_reserved_profile_fields(emulator):
    track(emulator, {"attributes": [attrs(
        "u1", first_name="Ada", email="ada@x.io", country="no", gender="f",
        dob="1990-02-03", time_zone="Europe/Oslo", home_city="Oslo",
        current_location={"longitude": 10.7, "latitude": 59.9},
        email_subscribe="opted_in", push_subscribe="unsubscribed", bio="ignored",
        subscription_groups=[{"subscription_group_id": "6a4a1b5c-2b8f-4c7e-9d3a-1f2e3d4c5b6a",
                              "subscription_state": "subscribed"}],
    )]})
    profile = emulator.profile(external_id="u1")
    assert profile["first_name"] == "Ada" and profile["email"] == "ada@x.io"
    assert profile["country"] == "NO" and profile["gender"] == "F"
    assert profile["time_zone"] == "Europe/Oslo" and profile["email_subscribe"] == "opted_in"
    assert profile["custom_attributes"] == {}
    assert "bio" not in profile
    # billed: first_name, email, country, gender, dob, time_zone, home_city, current_location
    assert points(emulator)["attributes"] == 8
    track(emulator, {"attributes": [attrs("u1", country="Norway", time_zone="Mars/Base")]})
    profile = emulator.profile(external_id="u1")
    assert "country" not in profile  # an invalid country is set to null
    assert profile["time_zone"] == "Europe/Oslo"  # an invalid time zone is ignored


def test_invalid_reserved_field_values(emulator):
    cases = [
        {"email": "bad"}, {"email_subscribe": "yes"}, {"push_subscribe": "maybe"},
        {"gender": "X"}, {"dob": "03/02/1990"}, {"current_location": {"longitude": 1}},
        {"subscription_groups": [{"subscription_group_id": "x",
                                  "subscription_state": "subscribed"}]},
        {"push_tokens": [{"app_id": "a"}]}, {"first_name": 5},
        {"email_open_tracking_disabled": "no"},
    ]
    body = {"attributes": [attrs("u1", **case) for case in cases] + [attrs("u2", a=1)]}
    response = track(emulator, body)
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == list(range(len(cases)))
    assert errors[1]["type"] == (
        "'email_subscribe' must be 'subscribed', 'unsubscribed', or 'opted_in'"
    )
    assert errors[2]["type"] == (
        "'push_subscribe' must be 'subscribed', 'unsubscribed', or 'opted_in'"
    )


def test_subscription_changes_are_not_billed(emulator):
    track(emulator, {"attributes": [attrs("u1", email_subscribe="subscribed")]})
    assert points(emulator)["total"] == 0


def test_non_object_entries_are_rejected(emulator):
    response = track(emulator, {"attributes": ["u1", attrs("u1", a=1)]})
    assert response.json()["errors"][0] == {
        "type": "Each array entry must be a JSON object", "input_array": "attributes",
        "index": 0,
    }


def test_objects_apply_in_order_whatever_their_kind(emulator):
    track(emulator, {"attributes": [attrs("u1", a=1), attrs("u1", a={"inc": 1}),
                                    attrs("u1", a=10), attrs("u1", a={"inc": 5})]})
    assert custom(emulator) == {"a": 15}
    track(emulator, {"attributes": [attrs("u1", a={"inc": 1}), attrs("u1", a=3),
                                    {"a": 1}, attrs("u1", b=None)]})
    assert custom(emulator) == {"a": 3}
    response = track(emulator, {"attributes": [{"x": 1}, attrs("u1", t={"add": ["x"]}),
                                               {"y": 1}, attrs("u1", a=4)]})
    assert [e["index"] for e in response.json()["errors"]] == [0, 2]
    assert custom(emulator) == {"a": 4, "t": ["x"]}
