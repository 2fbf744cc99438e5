-- One row per split a membership manifest names: listed under `audiences` (with its
-- member_count) or under `retired`. attribute_name is the Braze attribute of the split.
with

deliveries as (
    select * from {{ ref('stg_aiq__membership_deliveries') }}
),

listed as (
    select
        deliveries.delivery_id,
        unnest(json_extract(deliveries.audiences_json, '$[*]')) as split_json,
        false as is_retired
    from deliveries
    where json_type(deliveries.audiences_json) = 'ARRAY'
),

retired as (
    select
        deliveries.delivery_id,
        unnest(json_extract(deliveries.retired_json, '$[*]')) as split_json,
        true as is_retired
    from deliveries
    where json_type(deliveries.retired_json) = 'ARRAY'
),

splits as (
    select * from listed
    union all
    select * from retired
),

final as (
    select
        delivery_id,
        split_json ->> 'audience_id' as audience_id,
        split_json ->> 'split_id' as split_id,
        'AIQ_' || (split_json ->> 'audience_id') || '_' || (split_json ->> 'split_id')
            as attribute_name,
        split_json ->> 'member_count' as member_count_text,
        try_cast(split_json ->> 'member_count' as bigint) as member_count,
        is_retired
    from splits
)

select * from final
