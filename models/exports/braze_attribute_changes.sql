-- What the sync must send to Braze as attributes: one row per Braze profile and attribute
-- whose value must change (docs/architecture.md). Read by python -m sync; contract enforced.
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
        coalesce(person_keys.braze_key_type, {{ aiq_person_key_type('changes.person_id') }})
            as braze_key_type,
        coalesce(person_keys.braze_key, {{ aiq_person_key('changes.person_id') }}) as braze_key,
        changes.attribute_name,
        cast(changes.value_json as varchar) as value_json,
        changes.source_stream,
        changes.source_id
    from changes
    left join person_keys on changes.person_id = person_keys.person_id
)

select * from final
