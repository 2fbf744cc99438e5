-- What Braze acknowledged from us, per profile and attribute. dbt owns the DDL; the sync
-- (python -m sync run) owns the rows. full_refresh: false, so --full-refresh cannot wipe it.
with final as (
    select
        cast(null as varchar) as braze_key_type,
        cast(null as varchar) as braze_key,
        cast(null as varchar) as attribute_name,
        cast(null as varchar) as value_json,
        cast(null as varchar) as source_stream,
        cast(null as varchar) as run_id,
        cast(null as timestamp) as recorded_at
    where false
)

select * from final
