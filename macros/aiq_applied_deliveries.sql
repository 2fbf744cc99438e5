{#-
    Delivery ids of one stream ('membership' or 'attributes') that earlier builds have applied,
    read from the log model int_<stream>_deliveries_applied (see aiq_state_relation: the log runs
    after the models that need it). Before the first build nothing counts as applied.
-#}
{% macro aiq_applied_deliveries(stream) -%}
    {%- set log = aiq_state_relation('int_' ~ stream ~ '_deliveries_applied') -%}
    {%- if log is none -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(aiq_column_values(log, 'delivery_id')) }}
{%- endmacro %}
