-- The Braze object updates go to, for the persons whose ledger values may sit under more than
-- one key: those with a ledger-held braze_id that is now linked to their external_id (entered
-- under the braze_id, identified later). Their target is a key the ledger holds under one of
-- their identifiers (the external_id first, then the lowest braze_id), so exits reach the
-- profile that got the entry. Every other person has at most one ledger key, its own, and uses
-- it (aiq_person_key_type, aiq_person_key): they are not listed, so this stays small however
-- large the ledger grows.
with

ledger as (
    select * from {{ ref('sync_attribute_ledger') }}
),

owners as (
    select * from {{ ref('int_braze_id_owners') }}
),

linked_braze_keys as (
    select distinct
        owners.external_id,
        ledger.braze_key
    from ledger
    inner join owners
        on
            ledger.braze_key_type = 'braze_id'
            and ledger.braze_key = owners.braze_id
),

linked_external_ids as (
    select distinct external_id
    from linked_braze_keys
),

held_external_ids as (
    select distinct ledger.braze_key as external_id
    from ledger
    inner join linked_external_ids
        on
            ledger.braze_key_type = 'external_id'
            and ledger.braze_key = linked_external_ids.external_id
),

candidates as (
    select
        external_id,
        'braze_id' as braze_key_type,
        braze_key
    from linked_braze_keys
    union all
    select
        external_id,
        'external_id' as braze_key_type,
        external_id as braze_key
    from held_external_ids
),

final as (
    select
        'external_id' as person_key_type,
        external_id as person_key,
        braze_key_type,
        braze_key
    from candidates
    qualify
        row_number() over (
            partition by external_id order by braze_key_type = 'external_id' desc, braze_key
        ) = 1
)

select * from final
