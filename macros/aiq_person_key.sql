{#- The identifier value of the person a row belongs to; its type is aiq_person_key_type. -#}
{% macro aiq_person_key(external_id, owner_external_id, braze_id) -%}
    coalesce({{ external_id }}, {{ owner_external_id }}, {{ braze_id }})
{%- endmacro %}
