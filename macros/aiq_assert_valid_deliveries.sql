{#-
    Fails the build when any pending delivery of a stream has a problem, with a message naming
    each delivery, split (or attribute) and both counts. `checks` is the stream's
    int_<stream>_delivery_checks model: one row per problem (delivery_id, subject, problem).
    Nothing of a failing delivery is applied: every model that applies it runs after this one.
-#}
{% macro aiq_assert_valid_deliveries(checks, stream) -%}
    {%- if execute -%}
        {%- set query -%}
            select delivery_id, problem from {{ checks }} order by delivery_id, problem limit 50
        {%- endset -%}
        {%- set problems = run_query(query).rows -%}
        {%- if problems | length > 0 -%}
            {%- set lines = [] -%}
            {%- for row in problems -%}
                {%- do lines.append('  - ' ~ stream ~ ' delivery ' ~ row[0] ~ ': ' ~ row[1]) -%}
            {%- endfor -%}
            {{ exceptions.raise_compiler_error(
                'Invalid ' ~ stream ~ ' delivery; none of it is applied:\n' ~ (lines | join('\n'))
                ~ '\nFix or remove the delivery, or list it in var aiq_ignore_deliveries.'
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
