-- The member rows of the pending deliveries (read from their files into int_membership_rows
-- in this build), one row per row of the files, with the reason a row is invalid
-- (identity_problem) when it is. A view: the rows are written once, in the store.
{%- set pending = aiq_column_values(ref('int_membership_deliveries_pending'), 'delivery_id') %}
{{ config(materialized='view') }}

with

member_rows as (
    select * from {{ ref('int_membership_rows') }}
    where {{ aiq_in_list('delivery_id', pending) }}
),

final as (
    select
        delivery_id,
        audience_id,
        split_id,
        'AIQ_' || audience_id || '_' || split_id as attribute_name,
        external_id,
        braze_id,
        identity_problem
    from member_rows
)

select * from final
