-- The pending custom-attribute deliveries, once every check has passed. Building this model
-- fails, naming each invalid delivery and its problem, when any check did not pass; every model
-- that applies a delivery runs after it, so an invalid delivery is never applied.
{{ aiq_assert_valid_deliveries(ref('int_attribute_delivery_checks'), 'attributes') }}

with

deliveries as (
    select * from {{ ref('int_attribute_deliveries_pending') }}
),

final as (
    select
        delivery_id,
        exported_at
    from deliveries
)

select * from final
