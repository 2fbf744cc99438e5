-- Warns when the newest complete membership delivery was exported more than
-- var aiq_membership_max_age_hours ago: ActionIQ may have stopped exporting.
{{ config(severity='warn') }}

with

deliveries as (
    select * from {{ ref('stg_aiq__membership_deliveries') }}
),

final as (
    select max(exported_at) as newest_exported_at
    from deliveries
    having
        max(exported_at) < cast(now() at time zone 'UTC' as timestamp)
        - to_hours({{ var('aiq_membership_max_age_hours') }})
)

select * from final
