-- Objects Braze rejected (per-object errors) or the sync's own validation refused.
-- Rows rejected for a passing reason (429, 5xx, timeout) are never recorded here: they stay
-- pending and the next run retries them.
with final as (
    select
        cast(null as varchar) as stream,
        cast(null as varchar) as source_id,
        cast(null as varchar) as braze_key_type,
        cast(null as varchar) as braze_key,
        cast(null as varchar) as attribute_name,
        cast(null as varchar) as event_id,
        cast(null as varchar) as event_name,
        cast(null as varchar) as reason,
        cast(null as varchar) as origin,
        cast(null as varchar) as run_id,
        cast(null as timestamp) as rejected_at
    where false
)

select * from final
