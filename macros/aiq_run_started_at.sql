{#- The time this dbt invocation started, as a UTC timestamp literal. -#}
{% macro aiq_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
