-- Every event row of every events file, loaded once: a build reads only the files not loaded
-- before (by file name; files never change once complete). rejection_reason says why an event
-- may never be sent (spec section 4 and Braze's limits); null for a valid event. A JSONL line that
-- is not valid JSON, or not an object, is such a row, its reason naming the line number.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
    )
}}
{%- set loaded = aiq_column_values(this, 'source_id') if is_incremental() else [] %}
{%- set new_files = [] %}
{%- for file in aiq_landing_files('events', 'jsonl') + aiq_landing_files('events', 'csv')
    + aiq_landing_files('events', 'parquet') %}
    {%- if file.split('/')[-1] not in loaded %}{% do new_files.append(file) %}{% endif %}
{%- endfor %}

with

events as (
    select * from {{ ref('stg_aiq__events') }}
    where {{ aiq_in_list('source_file', new_files) }}
),

checked as (
    select
        *,
        json_keys(events.properties_json) as property_keys,
        list_filter(
            json_keys(events.properties_json),
            lambda key: key = '' or length(key) > 255 or key like '$%'
            or key in ('time', 'event_name')
        ) as bad_property_keys,
        list_transform(
            list_filter(
                map_entries(cast(events.properties_json as map (varchar, json))),
                lambda entry: json_type(entry.value) = 'VARCHAR'
                and length(json_extract_string(entry.value, '$')) > 255
            ),
            lambda entry: entry.key
        ) as long_string_keys,
        {{ aiq_identity_problem('external_id', 'braze_id') }} as identity_problem
    from events
),

final as (
    select
        row_number() over ()
        {%- if is_incremental() %}
            + (select coalesce(max(loaded.event_row_id), 0) from {{ this }} as loaded)
        {% endif %}
            as event_row_id,
        source_id,
        source_file,
        event_id,
        event_name,
        external_id,
        braze_id,
        event_time_text,
        event_time,
        cast(properties_json as varchar) as properties_json,
        case
            when record_type = 'MALFORMED' then 'malformed JSON on line ' || line_number
            when record_type != 'OBJECT'
                then
                    'line ' || coalesce(cast(line_number as varchar), '?')
                    || ' is not a JSON object'
            when event_id is null then 'missing event_id'
            when event_name is null then 'missing event_name'
            when length(event_name) > 255 then 'event_name longer than 255 characters'
            when identity_problem is not null then identity_problem
            when event_time_text is null then 'missing event_time'
            when event_time is null
                then 'event_time ' || to_json(left(event_time_text, 100)) || ' is not ISO-8601'
            when not has_valid_properties then 'properties is not a JSON object'
            when len(bad_property_keys) > 0
                then
                    'invalid property key ' || to_json(left(bad_property_keys[1], 100))
                    || ' (keys are 1 to 255 characters, not starting with $,'
                    || ' not time or event_name)'
            when len(long_string_keys) > 0
                then
                    'property ' || to_json(left(long_string_keys[1], 100))
                    || ' is a string longer than 255 characters'
            when len(property_keys) > 256 then 'more than 256 properties'
            when strlen(properties_json) > {{ var('aiq_event_properties_max_bytes') }}
                then 'properties larger than {{ var('aiq_event_properties_max_bytes') }} bytes'
        end as rejection_reason,
        {{ aiq_run_started_at() }} as loaded_at
    from checked
)

select * from final
