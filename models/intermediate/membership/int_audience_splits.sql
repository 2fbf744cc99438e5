-- The applied state of every split ever named: the deciding delivery (newest in exported_at
-- order), whether the split is retired, and its member row count. Updated once the deliveries
-- passed every check and guard; int_audience_members reads the kept rows of these deliveries.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='attribute_name',
        full_refresh=false,
    )
}}

with

split_changes as (
    select * from {{ ref('int_audience_split_changes') }}
),

final as (
    select
        attribute_name,
        audience_id,
        split_id,
        delivery_id,
        exported_at,
        is_retired,
        member_rows,
        {{ aiq_run_started_at() }} as applied_at
    from split_changes
)

select * from final
