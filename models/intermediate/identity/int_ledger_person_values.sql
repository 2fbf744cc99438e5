-- What Braze holds from us, per person and attribute: the ledger row under the person's
-- target key (int_person_braze_keys) when there is one, else the latest recorded row under any
-- of the person's identifiers.
with

ledger as (
    select * from {{ ref('sync_attribute_ledger') }}
),

owners as (
    select * from {{ ref('int_braze_id_owners') }}
),

person_keys as (
    select * from {{ ref('int_person_braze_keys') }}
),

mapped as (
    select
        ledger.attribute_name,
        ledger.value_json,
        ledger.braze_key_type,
        ledger.braze_key,
        ledger.recorded_at,
        case
            when ledger.braze_key_type = 'external_id'
                then 'external_id:' || ledger.braze_key
            else {{ aiq_person_id('null', 'owners.external_id', 'ledger.braze_key') }}
        end as person_id
    from ledger
    left join owners
        on
            ledger.braze_key_type = 'braze_id'
            and ledger.braze_key = owners.braze_id
),

final as (
    select
        mapped.person_id,
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
    left join person_keys on mapped.person_id = person_keys.person_id
    group by mapped.person_id, mapped.attribute_name
)

select * from final
