-- One row per problem that makes a pending custom-attribute delivery invalid (spec section 3):
-- a row count that differs from the manifest's row_count, an attribute name Braze would not
-- take as a custom attribute, an unknown type, a malformed manifest.
with

deliveries as (
    select * from {{ ref('int_attribute_deliveries_pending') }}
),

manifest_attributes as (
    select * from {{ ref('stg_aiq__attribute_manifest_attributes') }}
),

attribute_rows as (
    select * from {{ ref('int_attribute_rows_pending') }}
),

row_counts as (
    select
        delivery_id,
        count(*) as row_count
    from attribute_rows
    group by delivery_id
),

count_problems as (
    select
        deliveries.delivery_id,
        'manifest row_count ' || coalesce(deliveries.row_count_text, 'missing')
        || ', files have ' || coalesce(row_counts.row_count, 0) || ' rows' as problem
    from deliveries
    left join row_counts on deliveries.delivery_id = row_counts.delivery_id
    where
        deliveries.row_count is null
        or deliveries.row_count != coalesce(row_counts.row_count, 0)
),

pending_attributes as (
    select manifest_attributes.*
    from manifest_attributes
    inner join deliveries on manifest_attributes.delivery_id = deliveries.delivery_id
),

name_problems as (
    select
        delivery_id,
        'attribute ''' || attribute_name || ''': '
        || case
            when attribute_name = '' then 'an empty name is not a valid Braze attribute name'
            when length(attribute_name) > 255 then 'name longer than 255 characters'
            when attribute_name like '$%' then 'a name may not start with $'
            when attribute_name like 'AIQ\_%' escape '\'
                then 'names starting with AIQ_ are reserved for audience attributes'
            when {{ aiq_in_list('attribute_name', aiq_reserved_attribute_names()) }}
                then 'a reserved Braze profile field, not a custom attribute'
            else
                'unknown type ''' || coalesce(attribute_type, 'missing')
                || ''' (use string, number, boolean or time)'
        end as problem
    from pending_attributes
    where
        attribute_name = ''
        or length(attribute_name) > 255
        or attribute_name like '$%'
        or attribute_name like 'AIQ\_%' escape '\'
        or {{ aiq_in_list('attribute_name', aiq_reserved_attribute_names()) }}
        or coalesce(attribute_type, '') not in ('string', 'number', 'boolean', 'time')
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
    from name_problems
    union all
    select
        delivery_id,
        problem
    from manifest_problems
)

select * from final
