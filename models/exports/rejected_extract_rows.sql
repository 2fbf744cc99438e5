-- Every extract row that will not be sent, with its reason (spec section 5): rows with bad
-- identifiers, attribute values that do not match their type, invalid events, and events whose
-- event_id was already taken from an earlier row. Kept across builds; a source (delivery or
-- file) processed again replaces its own rows.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['stream', 'source_id'],
        full_refresh=false,
    )
}}

with

membership_deliveries as (
    select * from {{ ref('int_membership_deliveries_validated') }}
),

membership_rows as (
    select * from {{ ref('int_membership_rows_pending') }}
),

attribute_deliveries as (
    select * from {{ ref('int_attribute_deliveries_validated') }}
),

attribute_rows as (
    select * from {{ ref('int_attribute_rows_pending') }}
),

attribute_cells as (
    select * from {{ ref('int_attribute_cells_pending') }}
),

events as (
    select * from {{ ref('int_events_loaded') }}
    where loaded_at = {{ aiq_run_started_at() }}
),

first_occurrences as (
    select * from {{ ref('int_events_deduplicated') }}
),

membership_rejects as (
    select
        'membership' as stream,
        membership_rows.delivery_id as source_id,
        membership_rows.external_id,
        membership_rows.braze_id,
        membership_rows.attribute_name,
        cast(null as varchar) as event_id,
        cast(null as varchar) as event_name,
        membership_rows.identity_problem as reason
    from membership_rows
    inner join membership_deliveries
        on membership_rows.delivery_id = membership_deliveries.delivery_id
    where membership_rows.identity_problem is not null
),

attribute_row_rejects as (
    select
        'attributes' as stream,
        attribute_rows.delivery_id as source_id,
        attribute_rows.external_id,
        attribute_rows.braze_id,
        cast(null as varchar) as attribute_name,
        cast(null as varchar) as event_id,
        cast(null as varchar) as event_name,
        attribute_rows.identity_problem as reason
    from attribute_rows
    inner join attribute_deliveries
        on attribute_rows.delivery_id = attribute_deliveries.delivery_id
    where attribute_rows.identity_problem is not null
),

attribute_value_rejects as (
    select
        'attributes' as stream,
        delivery_id as source_id,
        external_id,
        braze_id,
        attribute_name,
        cast(null as varchar) as event_id,
        cast(null as varchar) as event_name,
        value_problem as reason
    from attribute_cells
    where value_problem is not null
),

event_rejects as (
    select
        'events' as stream,
        events.source_id,
        left(events.external_id, 1000) as external_id,
        left(events.braze_id, 100) as braze_id,
        cast(null as varchar) as attribute_name,
        events.event_id,
        left(events.event_name, 1000) as event_name,
        coalesce(
            events.rejection_reason,
            'duplicate event_id: already taken from ' || first_occurrences.source_id
        ) as reason
    from events
    left join first_occurrences on events.event_id = first_occurrences.event_id
    where
        events.rejection_reason is not null
        or first_occurrences.event_row_id != events.event_row_id
),

final as (
    select
        *,
        {{ aiq_run_started_at() }} as detected_at
    from (
        select * from membership_rejects
        union all
        select * from attribute_row_rejects
        union all
        select * from attribute_value_rejects
        union all
        select * from event_rejects
    ) as rejects
)

select * from final
