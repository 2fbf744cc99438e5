{#-
    `<column> in ('a', 'b')` for a list of strings, or `false` for an empty list. A constant list
    (not a subquery) lets DuckDB skip files when the column is a file name.
-#}
{% macro aiq_in_list(column, values) -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({% for value in values %}{{ aiq_sql_literal(value) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}
