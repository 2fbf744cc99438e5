{#-
    Why a row's identifiers make it invalid (spec section 1), or null when they are fine:
    at least one of external_id / braze_id; external_id at most 987 bytes; braze_id 24 hex chars.
-#}
{% macro aiq_identity_problem(external_id, braze_id) -%}
    case
        when {{ external_id }} is null and {{ braze_id }} is null
            then 'no identifier: external_id and braze_id are both empty'
        when strlen({{ external_id }}) > 987
            then 'external_id longer than 987 bytes'
        when {{ braze_id }} is not null and not regexp_full_match({{ braze_id }}, '[0-9a-fA-F]{24}')
            then 'braze_id is not 24 hexadecimal characters'
    end
{%- endmacro %}
