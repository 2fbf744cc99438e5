-- Custom attribute values to send, per person and attribute: the deciding delivery's value
-- against what the ledger holds. A new or different value is sent; a person with no value now
-- (absent, or an empty cell) gets null only when the ledger holds a non-null value; a value
-- rejected for its type changes nothing. Attributes never listed by a delivery are left alone.
-- A table, not a view like the membership changes: braze_attribute_changes, reading both as
-- views, ran both diffs against the ledger in one query, and at 4 million people that query
-- ran out of the 25% memory limit (docs/benchmarks.md). Built apart, each fits; the
-- custom attribute changes are few rows beside the membership changes of a first delivery.
{{ config(materialized='table') }}

with

attribute_values as (
    select * from {{ ref('int_person_attribute_values') }}
),

attributes as (
    select * from {{ ref('int_custom_attributes') }}
),

owners as (
    select * from {{ ref('int_braze_id_owners') }}
),

ledger as (
    select * from {{ ref('int_ledger_person_values') }}
    where attribute_name not like 'AIQ\_%' escape '\'
),

value_persons as (
    select
        attribute_values.attribute_name,
        attribute_values.value_json,
        attribute_values.is_rejected,
        {{ aiq_person_key_type('attribute_values.external_id', 'owners.external_id') }}
            as person_key_type,
        {{ aiq_person_key(
            'attribute_values.external_id', 'owners.external_id', 'attribute_values.braze_id'
        ) }} as person_key
    from attribute_values
    left join owners on attribute_values.braze_id = owners.braze_id
),

desired as (
    select
        person_key_type,
        person_key,
        attribute_name,
        max(value_json) filter (where not is_rejected) as value_json,
        bool_or(is_rejected) as has_rejected_value
    from value_persons
    group by person_key_type, person_key, attribute_name
),

compared as (
    select
        coalesce(desired.person_key_type, ledger.person_key_type) as person_key_type,
        coalesce(desired.person_key, ledger.person_key) as person_key,
        coalesce(desired.attribute_name, ledger.attribute_name) as attribute_name,
        desired.value_json as desired_value_json,
        coalesce(desired.has_rejected_value, false) as has_rejected_value,
        ledger.value_json as held_value_json
    from desired
    full outer join ledger
        on
            desired.person_key = ledger.person_key
            and desired.person_key_type = ledger.person_key_type
            and desired.attribute_name = ledger.attribute_name
),

decided as (
    select
        compared.person_key_type,
        compared.person_key,
        compared.attribute_name,
        attributes.delivery_id,
        case
            when
                compared.desired_value_json is not null
                and compared.desired_value_json != coalesce(compared.held_value_json, '')
                then compared.desired_value_json
            when
                compared.desired_value_json is null
                and not compared.has_rejected_value
                and compared.held_value_json != 'null'
                then 'null'
        end as value_json
    from compared
    inner join attributes on compared.attribute_name = attributes.attribute_name
),

final as (
    select
        person_key_type,
        person_key,
        attribute_name,
        value_json,
        'attributes' as source_stream,
        delivery_id as source_id
    from decided
    where value_json is not null
)

select * from final
