-- depends_on: {{ ref('stg_aiq__landing_dir') }}
-- One row per complete custom-attribute delivery: its manifest, typed. The delivery id is the
-- folder name; the manifest's own delivery_id is kept to check that the two agree.
with

manifests as (
    select *
    from {{ aiq_read_landing(
        'attribute_manifests',
        aiq_landing_files('attributes', 'manifest'),
        {'delivery_id': 'varchar', 'exported_at': 'varchar', 'row_count': 'varchar',
         'attributes': 'json', 'filename': 'varchar'}
    ) }}
),

final as (
    select
        regexp_extract(filename, '([^/]+)/manifest\.json$', 1) as delivery_id,
        delivery_id as manifest_delivery_id,
        exported_at as exported_at_text,
        {{ aiq_parse_utc_timestamp('exported_at') }} as exported_at,
        row_count as row_count_text,
        try_cast(row_count as bigint) as row_count,
        attributes as attributes_json,
        filename as manifest_file
    from manifests
)

select * from final
