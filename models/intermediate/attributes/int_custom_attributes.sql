-- The applied state of every custom attribute ever listed: its type and deciding delivery
-- (newest in exported_at order). Updated after the values.
-- depends_on: {{ ref('int_person_attribute_values') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='attribute_name',
        full_refresh=false,
    )
}}

with

attribute_changes as (
    select * from {{ ref('int_custom_attribute_changes') }}
),

final as (
    select
        attribute_name,
        attribute_type,
        delivery_id,
        exported_at,
        {{ aiq_run_started_at() }} as applied_at
    from attribute_changes
)

select * from final
