{#-
    The pre-hook of int_membership_rows: deletes every kept row that does not decide a split now
    (int_audience_splits as the last build left it): rows of superseded or retired splits, rows
    with an identity problem, and every row of a delivery still pending, which the build reads
    again from its files. Before any split is applied (an earlier build failed its checks),
    no kept row decides one, and all go. Nothing before the first build of the store.
-#}
{% macro aiq_prune_membership_rows() -%}
    {%- set splits = aiq_state_relation('int_audience_splits') -%}
    {%- set appending = aiq_is_appending() -%}
    {%- if appending and splits is none -%}
        delete from {{ this }}
    {%- elif appending -%}
        delete from {{ this }} as kept
        where
            kept.identity_problem is not null
            or kept.delivery_id in (
                select pending.delivery_id
                from {{ ref('int_membership_deliveries_pending') }} as pending
            )
            or not exists (
                select 1
                from {{ splits }} as splits
                where
                    splits.delivery_id = kept.delivery_id
                    and splits.audience_id = kept.audience_id
                    and splits.split_id = kept.split_id
                    and not splits.is_retired
            )
    {%- endif -%}
{%- endmacro %}
