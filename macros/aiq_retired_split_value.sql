{#- var aiq_retired_split_value, checked: 'false' (default) or 'null'. -#}
{% macro aiq_retired_split_value() -%}
    {%- set value = var('aiq_retired_split_value') | string | lower -%}
    {%- if value not in ('false', 'null') -%}
        {{ exceptions.raise_compiler_error(
            "var aiq_retired_split_value must be 'false' or 'null', not '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
