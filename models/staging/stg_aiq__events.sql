-- depends_on: {{ ref('stg_aiq__landing_dir') }}
-- Every event row of every complete events file (JSONL, CSV, Parquet), one row per line.
-- Fields are typed here; any field beyond the known ones becomes an event property of the
-- same name, merged into `properties` (extras win on a clash). JSON types are kept (CSV is text).
-- JSONL files are read as text and split into lines here (not by read_json_objects), so that a
-- line that is not valid JSON becomes a row (record_json null, record_type 'MALFORMED') with its
-- exact 1-based line_number, which int_events_loaded rejects, instead of failing the whole build.
-- Blank lines are skipped but counted; a trailing carriage return (CRLF files) is ignored.
with

jsonl_files as (
    select
        filename,
        content
    from {{ aiq_read_landing(
        'event_jsonl_files',
        aiq_landing_files('events', 'jsonl'),
        {'filename': 'varchar', 'content': 'varchar'}
    ) }}
),

jsonl_lines as (
    select
        filename,
        unnest(generate_series(1, len(lines))) as line_number,
        unnest(lines) as line_text
    from (
        select
            filename,
            string_split(content, chr(10)) as lines
        from jsonl_files
    ) as split_files
),

jsonl_rows as (
    select
        case when json_valid(line_text) then cast(line_text as json) end as record_json,
        filename,
        line_number
    from jsonl_lines
    where trim(line_text, ' ' || chr(9) || chr(13)) != ''
),

csv_rows as (
    select
        json_merge_patch(to_json(csv_files), '{"filename": null}') as record_json,
        filename,
        cast(null as bigint) as line_number
    from {{ aiq_read_landing(
        'event_csv_files',
        aiq_landing_files('events', 'csv'),
        {'event_id': 'varchar', 'filename': 'varchar'}
    ) }} as csv_files
),

parquet_rows as (
    select
        json_merge_patch(to_json(parquet_files), '{"filename": null}') as record_json,
        filename,
        cast(null as bigint) as line_number
    from {{ aiq_read_landing(
        'event_parquet_files',
        aiq_landing_files('events', 'parquet'),
        {'event_id': 'varchar', 'filename': 'varchar'}
    ) }} as parquet_files
),

all_rows as (
    select * from jsonl_rows
    union all
    select * from csv_rows
    union all
    select * from parquet_rows
),

fields as (
    select
        filename,
        line_number,
        record_json,
        coalesce(json_type(record_json), 'MALFORMED') as record_type,
        record_json ->> 'event_id' as event_id,
        record_json ->> 'event_name' as event_name,
        record_json ->> 'external_id' as external_id,
        record_json ->> 'braze_id' as braze_id,
        record_json ->> 'event_time' as event_time_text,
        record_json -> 'properties' as properties_raw,
        json_merge_patch(
            record_json,
            '{"event_id": null, "event_name": null, "external_id": null, "braze_id": null,'
            || ' "event_time": null, "properties": null}'
        ) as extras_json
    from all_rows
),

final as (
    select
        regexp_extract(filename, '([^/]+)$', 1) as source_id,
        filename as source_file,
        line_number,
        nullif(event_id, '') as event_id,
        nullif(event_name, '') as event_name,
        nullif(external_id, '') as external_id,
        nullif(braze_id, '') as braze_id,
        event_time_text,
        {{ aiq_parse_utc_timestamp('event_time_text') }} as event_time,
        record_type,
        coalesce(json_type(properties_raw), 'NULL') in ('OBJECT', 'NULL') as has_valid_properties,
        case
            when json_type(properties_raw) = 'OBJECT'
                then json_merge_patch(properties_raw, extras_json)
            else extras_json
        end as properties_json
    from fields
)

select * from final
