-- What the sync must send to Braze as attributes: one row per Braze profile and attribute
-- whose value must change (docs/architecture.md). Read by python -m sync; contract enforced.
-- A contract table is created and filled in one transaction, and DuckDB fills a table created
-- in the same transaction while keeping insertion order on one thread only: a first delivery of
-- 50 million changes took 10 s more for it. The order of these rows means nothing, so it is off
-- while this model is built; no model that runs beside it depends on insertion order (the only
-- one that does, int_events_loaded, always runs before it).
{{
    config(
        pre_hook="set preserve_insertion_order = false",
        post_hook="set preserve_insertion_order = true",
    )
}}
with

membership_changes as (
    select * from {{ ref('int_membership_attribute_changes') }}
),

custom_attribute_changes as (
    select * from {{ ref('int_custom_attribute_value_changes') }}
),

person_keys as (
    select * from {{ ref('int_person_braze_keys') }}
),

changes as (
    select * from membership_changes
    union all
    select * from custom_attribute_changes
),

final as (
    select
        coalesce(person_keys.braze_key_type, changes.person_key_type) as braze_key_type,
        coalesce(person_keys.braze_key, changes.person_key) as braze_key,
        changes.attribute_name,
        cast(changes.value_json as varchar) as value_json,
        changes.source_stream,
        changes.source_id
    from changes
    left join person_keys
        on
            changes.person_key_type = person_keys.person_key_type
            and changes.person_key = person_keys.person_key
)

select * from final
