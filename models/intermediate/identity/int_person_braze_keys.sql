-- The Braze object each person's updates go to, for the persons the ledger already holds
-- values for: a key the ledger holds under one of the person's identifiers (an external_id
-- first, then the lowest braze_id), so exits reach the profile that got the entry. Persons
-- not here use their own key (external_id, else braze_id; see aiq_person_id).
with

ledger as (
    select * from {{ ref('sync_attribute_ledger') }}
),

owners as (
    select * from {{ ref('int_braze_id_owners') }}
),

ledger_keys as (
    select distinct
        braze_key_type,
        braze_key
    from ledger
),

mapped as (
    select
        ledger_keys.braze_key_type,
        ledger_keys.braze_key,
        case
            when ledger_keys.braze_key_type = 'external_id'
                then 'external_id:' || ledger_keys.braze_key
            else {{ aiq_person_id('null', 'owners.external_id', 'ledger_keys.braze_key') }}
        end as person_id
    from ledger_keys
    left join owners
        on
            ledger_keys.braze_key_type = 'braze_id'
            and ledger_keys.braze_key = owners.braze_id
),

final as (
    select
        person_id,
        braze_key_type,
        braze_key
    from mapped
    qualify
        row_number() over (
            partition by person_id order by braze_key_type = 'external_id' desc, braze_key
        ) = 1
)

select * from final
