-- The custom attributes whose desired values change in this build: for every attribute a
-- validated pending delivery lists, its newest listing (exported_at order, then delivery id),
-- kept only when newer than the state already applied (int_custom_attributes).
{%- set previous_state = aiq_state_relation('int_custom_attributes') %}

with

deliveries as (
    select * from {{ ref('int_attribute_deliveries_validated') }}
),

manifest_attributes as (
    select * from {{ ref('stg_aiq__attribute_manifest_attributes') }}
),

listed as (
    select
        manifest_attributes.attribute_name,
        manifest_attributes.attribute_type,
        manifest_attributes.delivery_id,
        deliveries.exported_at
    from manifest_attributes
    inner join deliveries on manifest_attributes.delivery_id = deliveries.delivery_id
),

newest as (
    select *
    from listed
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
            cast(null as timestamp) as exported_at
        where false
    {%- else %}
        select
            attribute_name,
            delivery_id,
            exported_at
        from {{ previous_state }}
    {%- endif %}
),

final as (
    select
        newest.attribute_name,
        newest.attribute_type,
        newest.delivery_id,
        newest.exported_at,
        previous.delivery_id as previous_delivery_id
    from newest
    left join previous on newest.attribute_name = previous.attribute_name
    where
        previous.attribute_name is null
        or newest.exported_at > previous.exported_at
        or (newest.exported_at = previous.exported_at and newest.delivery_id > previous.delivery_id)
)

select * from final
