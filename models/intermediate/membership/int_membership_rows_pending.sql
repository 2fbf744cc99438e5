-- The member rows of the pending deliveries, read once per build, one row per distinct row
-- (row_count: how many times it appears, duplicates count for the member_count check), with
-- the reason a row is invalid (identity_problem, spec section 1) when it is.
{%- set pending = aiq_column_values(ref('int_membership_deliveries_pending'), 'delivery_id') %}

with

member_rows as (
    select * from {{ ref('stg_aiq__membership_rows') }}
    where {{ aiq_in_list('source_file', aiq_delivery_files('membership', pending)) }}
),

distinct_rows as (
    select
        delivery_id,
        audience_id,
        split_id,
        external_id,
        braze_id,
        count(*) as row_count
    from member_rows
    group by delivery_id, audience_id, split_id, external_id, braze_id
),

final as (
    select
        delivery_id,
        audience_id,
        split_id,
        'AIQ_' || audience_id || '_' || split_id as attribute_name,
        external_id,
        braze_id,
        row_count,
        {{ aiq_identity_problem('external_id', 'braze_id') }} as identity_problem
    from distinct_rows
)

select * from final
