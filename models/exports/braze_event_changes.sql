-- What the sync must send to Braze as events: the valid, de-duplicated events not yet
-- delivered (docs/architecture.md). Read by python -m sync; contract enforced.
with

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

delivered as (
    select * from {{ ref('sync_delivered_events') }}
),

owners as (
    select * from {{ ref('int_braze_id_owners') }}
),

person_keys as (
    select * from {{ ref('int_person_braze_keys') }}
),

pending as (
    select
        events.*,
        {{ aiq_person_key_type('events.external_id', 'owners.external_id') }} as person_key_type,
        {{ aiq_person_key('events.external_id', 'owners.external_id', 'events.braze_id') }}
            as person_key
    from events
    left join owners on events.braze_id = owners.braze_id
    where not exists (
        select 1 from delivered
        where delivered.event_id = events.event_id
    )
),

final as (
    select
        pending.event_id,
        coalesce(person_keys.braze_key_type, pending.person_key_type) as braze_key_type,
        coalesce(person_keys.braze_key, pending.person_key) as braze_key,
        pending.event_name,
        pending.event_time,
        pending.properties_json,
        pending.source_id
    from pending
    left join person_keys
        on
            pending.person_key_type = person_keys.person_key_type
            and pending.person_key = person_keys.person_key
)

select * from final
