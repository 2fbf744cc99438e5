{#-
    The data files (CSV and Parquet) of the given deliveries of one stream ('membership' or
    'attributes'), as a list of paths. Used to read only pending deliveries: DuckDB skips every
    file not in a constant list (see aiq_in_list).
-#}
{% macro aiq_delivery_files(stream, delivery_ids) -%}
    {%- set files = [] -%}
    {%- for file in aiq_landing_files(stream, 'csv') + aiq_landing_files(stream, 'parquet') -%}
        {%- if file.split('/')[-2] in delivery_ids -%}
            {%- do files.append(file) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(files) }}
{%- endmacro %}
