-- Desired membership: the valid member rows of each split's deciding delivery, as identified
-- there (a repeated row stays repeated; the diff takes distinct persons).
-- State kept across builds: a split's rows are replaced only when a newer delivery names it
-- (int_audience_split_changes); splits a delivery does not name keep their members. An empty
-- or retired split keeps no rows. Old deliveries are never read again.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where attribute_name in
            (select attribute_name from {{ ref('int_audience_split_changes') }}){% endif %}"
        ],
    )
}}

with

split_changes as (
    select * from {{ ref('int_audience_split_changes') }}
),

member_rows as (
    select * from {{ ref('int_membership_rows_pending') }}
),

deciding_rows as (
    select
        member_rows.attribute_name,
        member_rows.external_id,
        member_rows.braze_id,
        member_rows.delivery_id
    from member_rows
    inner join split_changes
        on
            member_rows.delivery_id = split_changes.delivery_id
            and member_rows.attribute_name = split_changes.attribute_name
    where
        member_rows.identity_problem is null
        and not split_changes.is_retired
),

final as (
    select
        attribute_name,
        external_id,
        braze_id,
        delivery_id
    from deciding_rows
)

select * from final
