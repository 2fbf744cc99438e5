-- Every event the sync sent, once per event_id. outcome is 'acknowledged' (Braze answered 2xx)
-- or 'unknown' (the response never came; see docs/decisions/0011). dbt owns the DDL only.
with final as (
    select
        cast(null as varchar) as event_id,
        cast(null as varchar) as braze_key_type,
        cast(null as varchar) as braze_key,
        cast(null as varchar) as event_name,
        cast(null as timestamp) as event_time,
        cast(null as varchar) as outcome,
        cast(null as varchar) as run_id,
        cast(null as timestamp) as recorded_at
    where false
)

select * from final
