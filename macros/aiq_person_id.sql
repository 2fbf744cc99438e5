{#-
    The person a row belongs to (docs/decisions/0020-dbt-identity-resolution.md), as one text key:
    'external_id:<id>' when the row has an external_id or its braze_id is linked to one
    (owner_external_id, from int_braze_id_owners), else 'braze_id:<id>'. The key also names the
    Braze object to use when the ledger holds nothing for the person.
-#}
{% macro aiq_person_id(external_id, owner_external_id, braze_id) -%}
    case
        when {{ external_id }} is not null then 'external_id:' || {{ external_id }}
        when {{ owner_external_id }} is not null then 'external_id:' || {{ owner_external_id }}
        else 'braze_id:' || {{ braze_id }}
    end
{%- endmacro %}

{#- The identifier type ('external_id' or 'braze_id') of a person key. -#}
{% macro aiq_person_key_type(person_id) -%}
    split_part({{ person_id }}, ':', 1)
{%- endmacro %}

{#- The identifier value of a person key. -#}
{% macro aiq_person_key(person_id) -%}
    substr({{ person_id }}, strpos({{ person_id }}, ':') + 1)
{%- endmacro %}
