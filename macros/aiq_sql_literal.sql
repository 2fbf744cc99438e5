{#- A string as a single-quoted SQL literal ('' for a quote inside). -#}
{% macro aiq_sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
