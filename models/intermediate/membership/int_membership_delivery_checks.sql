-- One row per problem that makes a pending membership delivery invalid (spec section 2):
-- a listed split whose row count differs from its member_count, rows of a split the manifest
-- does not list, a malformed manifest. Empty when every pending delivery is valid.
with

deliveries as (
    select * from {{ ref('int_membership_deliveries_pending') }}
),

manifest_splits as (
    select * from {{ ref('stg_aiq__membership_manifest_splits') }}
),

member_rows as (
    select * from {{ ref('int_membership_rows_pending') }}
),

pending_splits as (
    select manifest_splits.*
    from manifest_splits
    inner join deliveries on manifest_splits.delivery_id = deliveries.delivery_id
),

row_counts as (
    select
        delivery_id,
        audience_id,
        split_id,
        count(*) as row_count
    from member_rows
    group by delivery_id, audience_id, split_id
),

listed_splits as (
    select
        delivery_id,
        audience_id,
        split_id,
        member_count,
        member_count_text,
        count(*) over (partition by delivery_id, audience_id, split_id) as times_named
    from pending_splits
    where not is_retired
),

count_problems as (
    select
        listed_splits.delivery_id,
        'split ' || listed_splits.audience_id || '/' || listed_splits.split_id
        || ': manifest member_count ' || coalesce(listed_splits.member_count_text, 'missing')
        || ', files have ' || coalesce(row_counts.row_count, 0) || ' rows' as problem
    from listed_splits
    left join row_counts
        on
            listed_splits.delivery_id = row_counts.delivery_id
            and listed_splits.audience_id = row_counts.audience_id
            and listed_splits.split_id = row_counts.split_id
    where
        listed_splits.member_count is null
        or listed_splits.member_count < 0
        or listed_splits.member_count != coalesce(row_counts.row_count, 0)
),

unlisted_problems as (
    select
        row_counts.delivery_id,
        'split ' || coalesce(row_counts.audience_id, '(empty)') || '/'
        || coalesce(row_counts.split_id, '(empty)')
        || ': not listed in the manifest (member_count 0), files have '
        || row_counts.row_count || ' rows' as problem
    from row_counts
    left join listed_splits
        on
            row_counts.delivery_id = listed_splits.delivery_id
            and row_counts.audience_id = listed_splits.audience_id
            and row_counts.split_id = listed_splits.split_id
    where listed_splits.delivery_id is null
),

split_problems as (
    select
        delivery_id,
        'split ' || coalesce(audience_id, '(empty)') || '/' || coalesce(split_id, '(empty)')
        || case
            when
                not regexp_full_match(coalesce(audience_id, ''), '[A-Za-z0-9_-]{1,64}')
                or not regexp_full_match(coalesce(split_id, ''), '[A-Za-z0-9_-]{1,64}')
                then ': audience_id and split_id must match [A-Za-z0-9_-]{1,64}'
            else ': named more than once in the manifest'
        end as problem
    from pending_splits
    qualify
        not regexp_full_match(coalesce(audience_id, ''), '[A-Za-z0-9_-]{1,64}')
        or not regexp_full_match(coalesce(split_id, ''), '[A-Za-z0-9_-]{1,64}')
        or count(*) over (partition by delivery_id, audience_id, split_id) > 1
),

manifest_problems as (
    select
        delivery_id,
        case
            when exported_at is null
                then
                    'manifest exported_at '
                    || coalesce('''' || exported_at_text || '''', 'missing')
                    || ' is not an ISO-8601 time'
            else
                'manifest delivery_id ' || coalesce('''' || manifest_delivery_id || '''', 'missing')
                || ' differs from its folder name'
        end as problem
    from deliveries
    where exported_at is null or manifest_delivery_id is distinct from delivery_id
),

final as (
    select
        delivery_id,
        problem
    from count_problems
    union all
    select
        delivery_id,
        problem
    from unlisted_problems
    union all
    select distinct
        delivery_id,
        problem
    from split_problems
    union all
    select
        delivery_id,
        problem
    from manifest_problems
)

select * from final
