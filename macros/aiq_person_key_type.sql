{#-
    The identifier type of the person a row belongs to (docs/decisions/0020-dbt-identity-resolution.md):
    'external_id' when the row has an external_id or its braze_id is linked to one
    (owner_external_id, from int_braze_id_owners), else 'braze_id'. With aiq_person_key, the
    person as two columns (person_key_type, person_key), which also name the Braze object to use
    when the ledger holds nothing for the person. Two columns rather than one concatenated text:
    joins on them need no string building over tens of millions of rows.
-#}
{% macro aiq_person_key_type(external_id, owner_external_id) -%}
    case
        when {{ external_id }} is not null or {{ owner_external_id }} is not null
            then 'external_id'
        else 'braze_id'
    end
{%- endmacro %}
