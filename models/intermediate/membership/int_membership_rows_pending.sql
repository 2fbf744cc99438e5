-- The member rows of the pending deliveries, read once per build, one row per row of the files
-- (a repeated row stays repeated: duplicates count for the member_count check, and everything
-- downstream takes distinct persons), with the reason a row is invalid (identity_problem, spec
-- section 1) when it is. Not grouped: at tens of millions of rows a distinct here would cost
-- more than reading the files.
{%- set pending = aiq_column_values(ref('int_membership_deliveries_pending'), 'delivery_id') %}

with

member_rows as (
    select * from {{ ref('stg_aiq__membership_rows') }}
    where {{ aiq_in_list('source_file', aiq_delivery_files('membership', pending)) }}
),

final as (
    select
        delivery_id,
        audience_id,
        split_id,
        attribute_name,
        external_id,
        braze_id,
        {{ aiq_identity_problem('external_id', 'braze_id') }} as identity_problem
    from member_rows
)

select * from final
