-- Complete membership deliveries not applied by an earlier build (and not in var
-- aiq_ignore_deliveries). Only their files are read in this build.
{%- set applied = aiq_applied_deliveries('membership') %}

with

deliveries as (
    select * from {{ ref('stg_aiq__membership_deliveries') }}
),

final as (
    select
        delivery_id,
        manifest_delivery_id,
        exported_at_text,
        exported_at,
        manifest_file
    from deliveries
    where
        not {{ aiq_in_list('delivery_id', applied) }}
        and not {{ aiq_in_list('delivery_id', var('aiq_ignore_deliveries')) }}
)

select * from final
