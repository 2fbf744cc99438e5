-- The splits whose state changes in this build: for every split a validated pending delivery
-- names, its newest naming (exported_at order, then delivery id), kept only when it is newer
-- than the state already applied (int_audience_splits). A late, older delivery changes nothing.
-- member_rows / previous_member_rows feed the guard test on lost members.
{%- set previous_state = aiq_state_relation('int_audience_splits') %}

with

deliveries as (
    select * from {{ ref('int_membership_deliveries_validated') }}
),

manifest_splits as (
    select * from {{ ref('stg_aiq__membership_manifest_splits') }}
),

member_rows as (
    select * from {{ ref('int_membership_rows_pending') }}
),

named as (
    select
        manifest_splits.attribute_name,
        manifest_splits.audience_id,
        manifest_splits.split_id,
        manifest_splits.delivery_id,
        deliveries.exported_at,
        manifest_splits.is_retired
    from manifest_splits
    inner join deliveries on manifest_splits.delivery_id = deliveries.delivery_id
),

newest as (
    select *
    from named
    qualify
        row_number() over (
            partition by attribute_name order by exported_at desc, delivery_id desc
        ) = 1
),

previous as (
    {%- if previous_state is none %}
        select
            cast(null as varchar) as attribute_name,
            cast(null as varchar) as delivery_id,
            cast(null as timestamp) as exported_at,
            cast(null as bigint) as member_rows
        where false
    {%- else %}
        select
            attribute_name,
            delivery_id,
            exported_at,
            member_rows
        from {{ previous_state }}
    {%- endif %}
),

new_member_rows as (
    select
        delivery_id,
        audience_id,
        split_id,
        count(*) as member_rows
    from member_rows
    where identity_problem is null
    group by delivery_id, audience_id, split_id
),

final as (
    select
        newest.attribute_name,
        newest.audience_id,
        newest.split_id,
        newest.delivery_id,
        newest.exported_at,
        newest.is_retired,
        case
            when newest.is_retired then 0 else coalesce(new_member_rows.member_rows, 0)
        end as member_rows,
        previous.delivery_id as previous_delivery_id,
        coalesce(previous.member_rows, 0) as previous_member_rows
    from newest
    left join previous on newest.attribute_name = previous.attribute_name
    left join new_member_rows
        on
            newest.delivery_id = new_member_rows.delivery_id
            and newest.audience_id = new_member_rows.audience_id
            and newest.split_id = new_member_rows.split_id
    where
        previous.attribute_name is null
        or newest.exported_at > previous.exported_at
        or (newest.exported_at = previous.exported_at and newest.delivery_id > previous.delivery_id)
)

select * from final
