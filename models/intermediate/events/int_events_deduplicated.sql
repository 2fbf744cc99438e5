-- One row per event_id: its first valid occurrence (lowest event_row_id) across every file
-- ever loaded. An event_id already here is never taken again, so a file landed twice, an
-- overlapping file or a re-run adds nothing.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
    )
}}

with

events as (
    select * from {{ ref('int_events_loaded') }} as loaded
    where
        loaded.rejection_reason is null
        {%- if is_incremental() %}
            and loaded.event_row_id > (
                select coalesce(max(taken.event_row_id), 0) from {{ this }} as taken
            )
            and loaded.event_id not in (select taken.event_id from {{ this }} as taken)
        {%- endif %}
),

first_occurrences as (
    select *
    from events
    qualify row_number() over (partition by event_id order by event_row_id) = 1
),

final as (
    select
        event_id,
        event_row_id,
        source_id,
        event_name,
        external_id,
        braze_id,
        event_time,
        properties_json
    from first_occurrences
)

select * from final
