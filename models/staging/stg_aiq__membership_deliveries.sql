-- depends_on: {{ ref('stg_aiq__landing_dir') }}
-- One row per complete membership delivery: its manifest, typed. The delivery id is the folder
-- name; the manifest's own delivery_id is kept to check that the two agree.
with

manifests as (
    select *
    from {{ aiq_read_landing(
        'membership_manifests',
        aiq_landing_files('membership', 'manifest'),
        {'delivery_id': 'varchar', 'exported_at': 'varchar', 'audiences': 'json',
         'retired': 'json', 'filename': 'varchar'}
    ) }}
),

final as (
    select
        regexp_extract(filename, '([^/]+)/manifest\.json$', 1) as delivery_id,
        delivery_id as manifest_delivery_id,
        exported_at as exported_at_text,
        {{ aiq_parse_utc_timestamp('exported_at') }} as exported_at,
        audiences as audiences_json,
        retired as retired_json,
        filename as manifest_file
    from manifests
)

select * from final
