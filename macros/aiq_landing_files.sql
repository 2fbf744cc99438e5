{#-
    The complete files of one landing stream, as a sorted list of paths.

    stream: 'membership' or 'attributes' (delivery folders) or 'events' (flat folder).
    extension: 'csv', 'parquet' or 'jsonl' for data files, 'manifest' for the manifests.
    Left out, as the spec requires: any name under the landing dir starting with '_' or '.',
    names ending in '.tmp', and delivery folders without their manifest.json (still being written).
    A glob that matches nothing is fine here, so an empty landing dir builds empty tables.
    Returns [] while dbt parses the project (no warehouse access then).
-#}
{% macro aiq_landing_files(stream, extension) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set root = aiq_landing_root() -%}
    {%- if extension == 'manifest' -%}
        {%- set data_glob = root ~ '/' ~ stream ~ '/*/manifest.json' -%}
    {%- elif stream == 'events' -%}
        {%- set data_glob = root ~ '/events/*.' ~ extension -%}
    {%- else -%}
        {%- set data_glob = root ~ '/' ~ stream ~ '/*/*.' ~ extension -%}
    {%- endif -%}
    {%- set query -%}
        with
        data_files as (
            select
                file,
                substr(file, {{ root | length + 2 }}) as relative_path,
                regexp_replace(file, '/[^/]*$', '') as folder
            from glob({{ aiq_sql_literal(data_glob) }})
        ),

        manifests as (
            select regexp_replace(file, '/[^/]*$', '') as folder
            from glob({{ aiq_sql_literal(root ~ '/' ~ stream ~ '/*/manifest.json') }})
        ),

        final as (
            select data_files.file
            from data_files
            where
                not regexp_matches(data_files.relative_path, '(^|/)[._]')
                and not data_files.file like '%.tmp'
                {%- if stream != 'events' %}
                and data_files.folder in (select manifests.folder from manifests)
                {%- endif %}
        )

        select file from final order by file
    {%- endset -%}
    {%- set result = run_query(query) -%}
    {{ return(result.columns[0].values() | list) }}
{%- endmacro %}
