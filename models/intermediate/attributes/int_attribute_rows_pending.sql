-- The data rows of the pending attribute deliveries (each file read once per build), with the
-- reason a row is invalid (identity_problem, spec section 1) when it is.
{%- set pending = aiq_column_values(ref('int_attribute_deliveries_pending'), 'delivery_id') %}

with

attribute_rows as (
    select * from {{ ref('stg_aiq__attribute_rows') }}
    where {{ aiq_in_list('source_file', aiq_delivery_files('attributes', pending)) }}
),

final as (
    select
        delivery_id,
        external_id,
        braze_id,
        values_json,
        {{ aiq_identity_problem('external_id', 'braze_id') }} as identity_problem,
        source_file
    from attribute_rows
)

select * from final
