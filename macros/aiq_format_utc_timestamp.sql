{#- A UTC timestamp as ISO-8601 text: 2026-11-28T12:00:00Z (milliseconds kept when present). -#}
{% macro aiq_format_utc_timestamp(expression) -%}
    case
        when microsecond({{ expression }}) = 0
            then strftime({{ expression }}, '%Y-%m-%dT%H:%M:%SZ')
        else strftime({{ expression }}, '%Y-%m-%dT%H:%M:%S.%gZ')
    end
{%- endmacro %}
