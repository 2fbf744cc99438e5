{#- The landing dir (var aiq_landing_dir, relative to the project root), no trailing slash. -#}
{% macro aiq_landing_root() -%}
    {{ return((var('aiq_landing_dir') | string | trim).rstrip('/')) }}
{%- endmacro %}
