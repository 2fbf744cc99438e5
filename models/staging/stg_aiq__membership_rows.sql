-- depends_on: {{ ref('stg_aiq__landing_dir') }}
-- Every member row of every complete membership delivery, CSV and Parquet parts alike, as text.
-- Read lazily: models downstream filter on source_file with a constant list, so DuckDB only
-- opens the files of the deliveries they need.
with

csv_rows as (
    select
        audience_id,
        split_id,
        external_id,
        braze_id,
        filename
    from {{ aiq_read_landing(
        'membership_csv_files',
        aiq_landing_files('membership', 'csv'),
        {'audience_id': 'varchar', 'split_id': 'varchar', 'external_id': 'varchar',
         'braze_id': 'varchar', 'filename': 'varchar'}
    ) }}
),

parquet_rows as (
    select
        cast(audience_id as varchar) as audience_id,
        cast(split_id as varchar) as split_id,
        cast(external_id as varchar) as external_id,
        cast(braze_id as varchar) as braze_id,
        filename
    from {{ aiq_read_landing(
        'membership_parquet_files',
        aiq_landing_files('membership', 'parquet'),
        {'audience_id': 'varchar', 'split_id': 'varchar', 'external_id': 'varchar',
         'braze_id': 'varchar', 'filename': 'varchar'}
    ) }}
),

all_rows as (
    select * from csv_rows
    union all
    select * from parquet_rows
),

final as (
    select
        regexp_extract(filename, '([^/]+)/[^/]+$', 1) as delivery_id,
        nullif(audience_id, '') as audience_id,
        nullif(split_id, '') as split_id,
        'AIQ_' || audience_id || '_' || split_id as attribute_name,
        nullif(external_id, '') as external_id,
        nullif(braze_id, '') as braze_id,
        filename as source_file
    from all_rows
)

select * from final
