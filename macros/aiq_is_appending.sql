{#-
    True when an aiq_append model's table exists, so its select adds rows to kept state (the
    counterpart of is_incremental() for macros/materializations/aiq_append.sql).
-#}
{% macro aiq_is_appending() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(load_relation(this) is not none) }}
{%- endmacro %}
