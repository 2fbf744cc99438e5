-- depends_on: {{ ref('stg_aiq__landing_dir') }}
-- Every data row of every complete custom-attribute delivery, CSV and Parquet parts alike.
-- The attribute columns differ per delivery, so they are kept as one JSON object per row
-- (values_json: attribute name -> value; empty cells left out). Read lazily, like membership.
with

csv_rows as (
    select
        cast(external_id as varchar) as external_id,
        cast(braze_id as varchar) as braze_id,
        to_json(csv_files) as row_json,
        filename
    from {{ aiq_read_landing(
        'attribute_csv_files',
        aiq_landing_files('attributes', 'csv'),
        {'external_id': 'varchar', 'braze_id': 'varchar', 'filename': 'varchar'}
    ) }} as csv_files
),

parquet_rows as (
    select
        cast(external_id as varchar) as external_id,
        cast(braze_id as varchar) as braze_id,
        to_json(parquet_files) as row_json,
        filename
    from {{ aiq_read_landing(
        'attribute_parquet_files',
        aiq_landing_files('attributes', 'parquet'),
        {'external_id': 'varchar', 'braze_id': 'varchar', 'filename': 'varchar'}
    ) }} as parquet_files
),

all_rows as (
    select * from csv_rows
    union all
    select * from parquet_rows
),

final as (
    select
        regexp_extract(filename, '([^/]+)/[^/]+$', 1) as delivery_id,
        nullif(external_id, '') as external_id,
        nullif(braze_id, '') as braze_id,
        json_merge_patch(
            row_json, '{"external_id": null, "braze_id": null, "filename": null}'
        ) as values_json,
        filename as source_file
    from all_rows
)

select * from final
