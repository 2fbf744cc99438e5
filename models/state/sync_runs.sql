-- One row per sync run. Inserted when the run starts (status 'running'), updated when it ends.
with final as (
    select
        cast(null as varchar) as run_id,
        cast(null as varchar) as command,
        cast(null as timestamp) as started_at,
        cast(null as timestamp) as finished_at,
        cast(null as varchar) as status,
        cast(null as bigint) as requests,
        cast(null as bigint) as attribute_changes_sent,
        cast(null as bigint) as attribute_changes_rejected,
        cast(null as bigint) as events_sent,
        cast(null as bigint) as events_rejected,
        cast(null as bigint) as events_outcome_unknown,
        cast(null as bigint) as data_points,
        cast(null as bigint) as retries,
        cast(null as bigint) as rate_limited,
        cast(null as varchar) as error_message,
        cast(null as varchar) as summary_json
    where false
)

select * from final
