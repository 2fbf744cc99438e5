-- What Braze holds from us, per person and attribute. A person with one ledger key (nearly
-- everyone) holds exactly its rows. A person listed in int_person_braze_keys may hold rows under
-- several keys: per attribute, the row under its target key when there is one, else the latest
-- recorded. A view whose CTEs are not materialized: each reader scans the ledger with its own
-- filter, and the whole ledger is never copied.
{{ config(materialized='view') }}

with

ledger as not materialized (
    select * from {{ ref('sync_attribute_ledger') }}
),

owners as (
    select * from {{ ref('int_braze_id_owners') }}
),

person_keys as (
    select * from {{ ref('int_person_braze_keys') }}
),

mapped as not materialized (
    select
        ledger.attribute_name,
        ledger.value_json,
        ledger.braze_key_type,
        ledger.braze_key,
        ledger.recorded_at,
        case
            when ledger.braze_key_type = 'external_id' then 'external_id'
            else {{ aiq_person_key_type('null', 'owners.external_id') }}
        end as person_key_type,
        case
            when ledger.braze_key_type = 'external_id' then ledger.braze_key
            else {{ aiq_person_key('null', 'owners.external_id', 'ledger.braze_key') }}
        end as person_key
    from ledger
    left join owners
        on
            ledger.braze_key_type = 'braze_id'
            and ledger.braze_key = owners.braze_id
),

single_key_values as (
    select
        mapped.person_key_type,
        mapped.person_key,
        mapped.attribute_name,
        mapped.value_json
    from mapped
    left join person_keys
        on
            mapped.person_key_type = person_keys.person_key_type
            and mapped.person_key = person_keys.person_key
    where person_keys.person_key is null
),

several_key_values as (
    select
        mapped.person_key_type,
        mapped.person_key,
        mapped.attribute_name,
        arg_max(
            mapped.value_json,
            struct_pack(
                is_target := mapped.braze_key_type = person_keys.braze_key_type
                and mapped.braze_key = person_keys.braze_key,
                recorded_at := mapped.recorded_at
            )
        ) as value_json
    from mapped
    inner join person_keys
        on
            mapped.person_key_type = person_keys.person_key_type
            and mapped.person_key = person_keys.person_key
    group by mapped.person_key_type, mapped.person_key, mapped.attribute_name
),

final as (
    select * from single_key_values
    union all
    select * from several_key_values
)

select * from final
