-- The pending membership deliveries, once every check has passed. Building this model fails,
-- naming each invalid delivery with its split and both counts, when any check did not pass;
-- every model that applies a delivery runs after it, so an invalid delivery is never applied.
{{ aiq_assert_valid_deliveries(ref('int_membership_delivery_checks'), 'membership') }}

with

deliveries as (
    select * from {{ ref('int_membership_deliveries_pending') }}
),

final as (
    select
        delivery_id,
        exported_at
    from deliveries
)

select * from final
