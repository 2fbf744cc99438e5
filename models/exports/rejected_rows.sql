-- Every row that was not sent, in one shape for analysts: invalid extract rows found by dbt
-- (origin 'extract') and objects Braze or the sync's own checks rejected (sync_rejected_rows).
{{ config(materialized='view') }}

with

extract_rejects as (
    select * from {{ ref('rejected_extract_rows') }}
),

sync_rejects as (
    select * from {{ ref('sync_rejected_rows') }}
),

final as (
    select
        stream,
        source_id,
        'extract' as origin,
        external_id,
        braze_id,
        attribute_name,
        event_id,
        event_name,
        reason,
        cast(null as varchar) as run_id,
        detected_at
    from extract_rejects
    union all
    select
        stream,
        source_id,
        coalesce(origin, 'braze') as origin,
        case when braze_key_type = 'external_id' then braze_key end as external_id,
        case when braze_key_type = 'braze_id' then braze_key end as braze_id,
        attribute_name,
        event_id,
        event_name,
        reason,
        run_id,
        rejected_at as detected_at
    from sync_rejects
)

select * from final
