{#-
    The landing source `table_name`, read from exactly `files` (a list of paths).

    The source's external_location (models/staging/_staging__sources.yml) is a read_csv /
    read_parquet / read_json call whose first argument is a glob; this macro swaps that glob for
    the explicit file list, so that ignored and incomplete files are never opened. With no files it
    returns a typed empty select (`empty_columns`: column name -> type), because DuckDB fails on a
    glob that matches nothing.
-#}
{% macro aiq_read_landing(table_name, files, empty_columns) -%}
    {%- set relation = source('aiq_landing', table_name) -%}
    {%- if files | length == 0 -%}
        (
            select
            {%- for name, data_type in empty_columns.items() %}
                cast(null as {{ data_type }}) as {{ name }}{% if not loop.last %},{% endif %}
            {%- endfor %}
            where false
        )
    {%- else -%}
        {%- set location = relation.render() -%}
        {%- set glob_start = location.index("'") -%}
        {%- set glob_end = location.index("'", glob_start + 1) -%}
        {{ location[:glob_start] }}[
            {%- for file in files %}{{ aiq_sql_literal(file) }}{% if not loop.last %}, {% endif %}{% endfor -%}
        ]{{ location[glob_end + 1:] }}
    {%- endif -%}
{%- endmacro %}
