{#-
    The table int_audience_members of a warehouse built before int_membership_rows existed (it
    then held the valid rows of each split's deciding delivery), while the store is not yet
    built; else none. int_membership_rows seeds itself from it once, so an upgrade loses no member.
-#}
{% macro aiq_legacy_audience_members() -%}
    {%- set legacy = aiq_state_relation('int_audience_members') -%}
    {%- if legacy is none or legacy.type != 'table' or aiq_is_appending() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(legacy) }}
{%- endmacro %}
