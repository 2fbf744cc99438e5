-- Desired membership: the valid member rows of each split's deciding delivery, as identified
-- there (a repeated row stays repeated; the diff takes distinct persons). A split's deciding
-- delivery changes only when a newer delivery names it (int_audience_splits); splits a delivery
-- does not name keep their members. An empty or retired split has no rows. A view over the
-- kept rows (int_membership_rows): nothing is copied.
{{ config(materialized='view') }}

with

kept_rows as (
    select * from {{ ref('int_membership_rows') }}
),

splits as (
    select * from {{ ref('int_audience_splits') }}
),

final as (
    select
        splits.attribute_name,
        kept_rows.external_id,
        kept_rows.braze_id,
        kept_rows.delivery_id
    from kept_rows
    inner join splits
        on
            kept_rows.delivery_id = splits.delivery_id
            and kept_rows.audience_id = splits.audience_id
            and kept_rows.split_id = splits.split_id
    where
        kept_rows.identity_problem is null
        and not splits.is_retired
)

select * from final
