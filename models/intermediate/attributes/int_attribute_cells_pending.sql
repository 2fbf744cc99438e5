-- One row per non-empty cell of the validated pending attribute deliveries (rows with valid
-- identifiers, attributes the manifest lists), typed as the JSON value to send. A value that
-- does not match its declared type, or a string over 255 characters, has value_json null and
-- its reason in value_problem.
with

deliveries as (
    select * from {{ ref('int_attribute_deliveries_validated') }}
),

manifest_attributes as (
    select * from {{ ref('stg_aiq__attribute_manifest_attributes') }}
),

attribute_rows as (
    select * from {{ ref('int_attribute_rows_pending') }}
),

valid_rows as (
    select attribute_rows.*
    from attribute_rows
    inner join deliveries on attribute_rows.delivery_id = deliveries.delivery_id
    where attribute_rows.identity_problem is null
),

-- Each row's JSON object is parsed once, into its (name, value) entries, which are matched to
-- the manifest's attributes by name (a lookup per attribute parsed the object once per
-- attribute: four times the time at five attributes).
row_entries as (
    select
        delivery_id,
        external_id,
        braze_id,
        source_file,
        unnest(map_entries(cast(values_json as map (varchar, json)))) as entry
    from valid_rows
),

cells as (
    select
        row_entries.delivery_id,
        row_entries.external_id,
        row_entries.braze_id,
        row_entries.source_file,
        manifest_attributes.attribute_name,
        manifest_attributes.attribute_type,
        json_extract_string(struct_extract(row_entries.entry, 'value'), '$') as value_text
    from row_entries
    inner join manifest_attributes
        on
            row_entries.delivery_id = manifest_attributes.delivery_id
            and struct_extract(row_entries.entry, 'key') = manifest_attributes.attribute_name
),

typed as (
    select
        *,
        case attribute_type
            when 'string' then case when length(value_text) <= 255 then to_json(value_text) end
            when 'number'
                then case
                    when
                        regexp_full_match(
                            trim(value_text), '-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?'
                        )
                        then trim(value_text)
                    when isfinite(try_cast(trim(value_text) as double))
                        then cast(to_json(try_cast(trim(value_text) as double)) as varchar)
                end
            when 'boolean'
                then case
                    when lower(trim(value_text)) in ('true', 't', '1') then 'true'
                    when lower(trim(value_text)) in ('false', 'f', '0') then 'false'
                end
            when 'time' then
                '"' || {{ aiq_format_utc_timestamp(aiq_parse_utc_timestamp('value_text')) }} || '"'
        end as value_json
    from cells
    where value_text is not null
),

final as (
    select
        delivery_id,
        external_id,
        braze_id,
        attribute_name,
        attribute_type,
        value_text,
        cast(value_json as varchar) as value_json,
        case
            when value_json is not null then null
            when attribute_type = 'string' then 'string longer than 255 characters'
            else 'value ' || to_json(left(value_text, 100)) || ' is not a valid ' || attribute_type
        end as value_problem,
        source_file
    from typed
)

select * from final
