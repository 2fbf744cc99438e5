{#-
    Fails with the duplicated key values when `columns` together are not unique.

    With `run_column` (the column naming the run that wrote a row) and `checked_model` (a model
    listing the runs whose rows this test has passed on, built from the tested model after this
    test), only the keys written by other runs are checked, against every row of the model: a
    duplicate always includes a row of a run not checked yet, so the result is the same as
    checking the whole model, for one scan instead of a group-by of it. A failed test leaves the
    checked model as it was, so the next build checks the same rows again. While no run has been
    checked (the first builds), every row is checked: first grouped by a 64-bit hash of the key,
    which needs a fraction of the memory of grouping the text keys (at 50 million rows under a
    memory limit, those spill to disk), then, for the rows of a repeated hash only, by the key.
-#}
{% test unique_combination(model, columns, run_column=none, checked_model=none) %}

{%- set checked = none -%}
{%- if execute and checked_model is not none -%}
    {%- set relation = adapter.get_relation(
        database=model.database, schema=model.schema, identifier=checked_model
    ) -%}
    {%- if relation is not none
        and run_query("select count(*) from " ~ relation).columns[0].values()[0] > 0 -%}
        {%- set checked = relation -%}
    {%- endif -%}
{%- endif -%}

with

{%- if checked is not none %}

new_keys as (
    select distinct {{ columns | join(', ') }}
    from {{ model }}
    where
        {{ run_column }} is null
        or {{ run_column }} not in (select checked_runs.{{ run_column }} from {{ checked }} as checked_runs)
),

candidates as (
    select {% for column in columns %}checked_rows.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ model }} as checked_rows
    semi join new_keys
        on
        {%- for column in columns %}
            {% if not loop.first %}and {% endif %}checked_rows.{{ column }} = new_keys.{{ column }}
        {%- endfor %}
),

{%- else %}

repeated_hashes as (
    select hash({{ columns | join(', ') }}) as key_hash
    from {{ model }}
    group by key_hash
    having count(*) > 1
),

candidates as (
    select {{ columns | join(', ') }}
    from {{ model }}
    where hash({{ columns | join(', ') }}) in (select repeated_hashes.key_hash from repeated_hashes)
),

{%- endif %}

final as (
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from candidates
    group by {{ columns | join(', ') }}
    having count(*) > 1
)

select * from final

{% endtest %}
