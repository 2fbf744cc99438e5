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

splits as (
    select * from {{ ref('int_audience_splits') }}
),

custom_attributes as (
    select * from {{ ref('int_custom_attributes') }}
),

changes as (
    select
        person_key_type,
        person_key,
        attribute_name,
        value_json
    from membership_changes
    union all
    select
        person_key_type,
        person_key,
        attribute_name,
        value_json
    from custom_attribute_changes
),

keyed as (
    select
        coalesce(person_keys.braze_key_type, changes.person_key_type) as braze_key_type,
        coalesce(person_keys.braze_key, changes.person_key) as braze_key,
        changes.attribute_name,
        cast(changes.value_json as varchar) as value_json
    from changes
    left join person_keys
        on
            changes.person_key_type = person_keys.person_key_type
            and changes.person_key = person_keys.person_key
),

-- One row per profile and attribute, by this group-by: the only aggregate over all the changes
-- (a first delivery has tens of millions), so it carries only keys and values. The rows it merges
-- are one change repeated (a person listed twice in a split gives the same value twice). Two
-- different values for one profile and attribute cannot come from valid input (the identity
-- rules give each profile one person); should a model edit ever produce them, the build fails
-- here, naming the profile and the attribute, and nothing is sent.
grouped as (
    select
        braze_key_type,
        braze_key,
        attribute_name,
        any_value(value_json) as value_json,
        min(hash(value_json)) != max(hash(value_json)) as has_conflicting_values
    from keyed
    group by braze_key_type, braze_key, attribute_name
),

-- The delivery each change comes from: the one that decides its attribute, as the
-- intermediate models name it per row (ActionIQ attributes may not be named AIQ_, so an
-- attribute has one source). Attached after the group-by: carried through it, these two text
-- columns made it 1.7x slower at 50 million changes.
sources as (
    select
        attribute_name,
        'membership' as source_stream,
        delivery_id as source_id
    from splits
    union all
    select
        attribute_name,
        'attributes' as source_stream,
        delivery_id as source_id
    from custom_attributes
),

final as (
    select
        grouped.braze_key_type,
        grouped.braze_key,
        grouped.attribute_name,
        case
            when grouped.has_conflicting_values
                then error(
                    'braze_attribute_changes: conflicting values for ' || grouped.braze_key_type
                    || ' ' || grouped.braze_key || ', attribute ' || grouped.attribute_name
                    || ' (two people map to one Braze profile: check int_person_braze_keys)'
                )
            else grouped.value_json
        end as value_json,
        sources.source_stream,
        sources.source_id
    from grouped
    left join sources on grouped.attribute_name = sources.attribute_name
)

select * from final
