{#-
    Kept state that grows by plain inserts (its hooks may delete): the first build creates the
    table from the model's select, and every later build inserts the select's rows straight into
    it. dbt's incremental materialization first writes the new rows to a temporary table and then
    copies them over; at tens of millions of rows that second write costs as much as the first.
    A full refresh never wipes it (like full_refresh: false). In the model and its hooks,
    aiq_is_appending() plays the part of is_incremental().
-#}
{% materialization aiq_append, adapter='duckdb' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing_relation is none -%}
        {%- set build_sql = create_table_as(False, target_relation, compiled_code) -%}
    {%- else -%}
        {%- set build_sql -%}
            insert into {{ target_relation }} by name ({{ compiled_code }})
        {%- endset -%}
    {%- endif -%}

    {%- call statement('main') -%}
        {{ build_sql }}
    {%- endcall -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
