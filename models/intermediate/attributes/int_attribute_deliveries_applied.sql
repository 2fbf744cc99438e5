-- Log of the custom-attribute deliveries applied. A delivery listed here is never read again.
-- depends_on: {{ ref('int_custom_attributes') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='delivery_id',
        full_refresh=false,
    )
}}

with

deliveries as (
    select * from {{ ref('int_attribute_deliveries_validated') }}
),

final as (
    select
        delivery_id,
        exported_at,
        {{ aiq_run_started_at() }} as applied_at
    from deliveries
)

select * from final
