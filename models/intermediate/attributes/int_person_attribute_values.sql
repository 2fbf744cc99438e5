-- Desired custom attribute values: one row per attribute and row identity in the deciding
-- delivery. State kept across builds: an attribute's rows are replaced only when a newer
-- delivery lists it. is_rejected marks a value that failed its type: the person keeps whatever
-- Braze holds for that attribute (no change is sent either way).
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where attribute_name in
            (select attribute_name from {{ ref('int_custom_attribute_changes') }}){% endif %}"
        ],
    )
}}

with

attribute_changes as (
    select * from {{ ref('int_custom_attribute_changes') }}
),

cells as (
    select * from {{ ref('int_attribute_cells_pending') }}
),

deciding_cells as (
    select
        cells.attribute_name,
        cells.external_id,
        cells.braze_id,
        cells.delivery_id,
        max(cells.value_json) as value_json,
        bool_and(cells.value_json is null) as is_rejected
    from cells
    inner join attribute_changes
        on
            cells.delivery_id = attribute_changes.delivery_id
            and cells.attribute_name = attribute_changes.attribute_name
    group by cells.attribute_name, cells.external_id, cells.braze_id, cells.delivery_id
),

final as (
    select
        attribute_name,
        external_id,
        braze_id,
        value_json,
        is_rejected,
        delivery_id
    from deciding_cells
)

select * from final
