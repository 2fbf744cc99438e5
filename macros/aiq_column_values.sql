{#- The distinct values of one column of a relation, as a sorted list ([] while parsing). -#}
{% macro aiq_column_values(relation, column) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select distinct {{ column }} from {{ relation }} where {{ column }} is not null order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}
