-- Guard: fails the build (so the sync never runs on it) when a delivery would take a split of
-- at least var aiq_guard_min_split_size members and remove more than var
-- aiq_guard_max_drop_share of them, unless var aiq_guard_allow_deliveries lists the delivery.
-- Nothing of the delivery is applied: int_audience_members runs after this test.
-- A retired split is an explicit decision, not a data loss, and is not guarded.
-- store_failures: the splits that tripped it (split, delivery, both counts, share lost) are
-- kept in main_dbt_test__audit.assert_no_split_loses_too_many_members, and dbt prints the query.
{{ config(store_failures=true) }}

with

split_changes as (
    select * from {{ ref('int_audience_split_changes') }}
),

final as (
    select
        attribute_name,
        delivery_id,
        previous_delivery_id,
        previous_member_rows,
        member_rows,
        round(1 - member_rows / previous_member_rows, 3) as dropped_share
    from split_changes
    where
        not is_retired
        and previous_member_rows >= {{ var('aiq_guard_min_split_size') }}
        and member_rows < previous_member_rows * (1 - {{ var('aiq_guard_max_drop_share') }})
        and not {{ aiq_in_list('delivery_id', var('aiq_guard_allow_deliveries')) }}
)

select * from final
