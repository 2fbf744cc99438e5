{#-
    The relation of a state model of this project by name, or none when it does not exist yet.
    Used only where a model must read the previous state of a model that runs after it (the
    state is written once a delivery has passed every check); ref() would be a cycle there.
-#}
{% macro aiq_state_relation(model_name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=this.database, schema=this.schema, identifier=model_name)) }}
{%- endmacro %}
