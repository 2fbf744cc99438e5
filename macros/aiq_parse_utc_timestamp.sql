{#-
    An ISO-8601 text as a UTC timestamp, or null when it does not parse.
    A time with an offset (Z, +01:00) is converted to UTC; a time without one is taken as UTC.
-#}
{% macro aiq_parse_utc_timestamp(expression) -%}
    case
        when regexp_matches(
            trim({{ expression }}),
            '\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[+-]\d{2}(:?\d{2})?)$'
        )
            then timezone('UTC', try_cast(trim({{ expression }}) as timestamptz))
        else try_cast(trim({{ expression }}) as timestamp)
    end
{%- endmacro %}
