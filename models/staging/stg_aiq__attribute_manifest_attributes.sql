-- One row per attribute a custom-attribute manifest lists, with its declared type.
with

deliveries as (
    select * from {{ ref('stg_aiq__attribute_deliveries') }}
),

listed as (
    select
        delivery_id,
        unnest(map_entries(cast(attributes_json as map (varchar, json)))) as attribute_entry
    from deliveries
    where json_type(attributes_json) = 'OBJECT'
),

final as (
    select
        listed.delivery_id,
        attribute_entry.key as attribute_name,
        json_extract_string(attribute_entry.value, '$') as attribute_type
    from listed
)

select * from final
