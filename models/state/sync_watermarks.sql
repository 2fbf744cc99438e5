-- How far delivery has got, per stream and scope. dbt owns the DDL; the sync owns the rows.
with final as (
    select
        cast(null as varchar) as stream,
        cast(null as varchar) as scope,
        cast(null as varchar) as watermark,
        cast(null as varchar) as run_id,
        cast(null as timestamp) as recorded_at
    where false
)

select * from final
