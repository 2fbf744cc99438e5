-- depends_on: {{ ref('stg_aiq__landing_dir') }}
-- Every event row of every complete events file (JSONL, CSV, Parquet), one row per line.
-- Fields are typed here; any field beyond the known ones becomes an event property of the
-- same name, merged into `properties` (extras win on a clash). JSON types are kept (CSV is text).
with

jsonl_rows as (
    select
        json as record_json,
        filename
    from {{ aiq_read_landing(
        'event_jsonl_files',
        aiq_landing_files('events', 'jsonl'),
        {'json': 'json', 'filename': 'varchar'}
    ) }}
),

csv_rows as (
    select
        json_merge_patch(to_json(csv_files), '{"filename": null}') as record_json,
        filename
    from {{ aiq_read_landing(
        'event_csv_files',
        aiq_landing_files('events', 'csv'),
        {'event_id': 'varchar', 'filename': 'varchar'}
    ) }} as csv_files
),

parquet_rows as (
    select
        json_merge_patch(to_json(parquet_files), '{"filename": null}') as record_json,
        filename
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
        record_json,
        json_type(record_json) as record_type,
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
