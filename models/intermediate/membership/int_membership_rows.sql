-- Member rows kept across builds: the rows of the pending deliveries, read from the files once
-- per build (a repeated row stays repeated: duplicates count for the member_count check), with
-- the reason a row is invalid (identity_problem, spec section 1) when it is; and, from earlier
-- builds, the valid rows of each split's deciding delivery (int_audience_splits), which
-- int_audience_members reads. Old deliveries are never read again.
-- Written once per build, by plain inserts (aiq_append): at tens of millions of rows the
-- writes are what a build costs. The pre-hook first drops every row that no longer decides a
-- split (superseded, retired, invalid, or of a delivery still pending: it is read again now).
-- Until it runs in the next build, the rows a delivery replaced stay here, unread.
{%- set pending = aiq_column_values(ref('int_membership_deliveries_pending'), 'delivery_id') %}
{%- set legacy_members = aiq_legacy_audience_members() %}
{%- set applied_splits = aiq_state_relation('int_audience_splits') %}
{{
    config(
        materialized='aiq_append',
        pre_hook=["{{ aiq_prune_membership_rows() }}"],
    )
}}

with

member_rows as (
    select * from {{ ref('stg_aiq__membership_rows') }}
    where {{ aiq_in_list('source_file', aiq_delivery_files('membership', pending)) }}
),

pending_rows as (
    select
        delivery_id,
        audience_id,
        split_id,
        external_id,
        braze_id,
        {{ aiq_identity_problem('external_id', 'braze_id') }} as identity_problem
    from member_rows
),

-- A warehouse from before this store kept the deciding rows in the table int_audience_members:
-- its rows seed the store on the first build, so no member is lost.
legacy_rows as (
    {%- if legacy_members is not none and applied_splits is not none %}
        select
            legacy.delivery_id,
            splits.audience_id,
            splits.split_id,
            legacy.external_id,
            legacy.braze_id,
            cast(null as varchar) as identity_problem
        from {{ legacy_members }} as legacy
        inner join {{ applied_splits }} as splits
            on legacy.attribute_name = splits.attribute_name
    {%- else %}
        select
            cast(null as varchar) as delivery_id,
            cast(null as varchar) as audience_id,
            cast(null as varchar) as split_id,
            cast(null as varchar) as external_id,
            cast(null as varchar) as braze_id,
            cast(null as varchar) as identity_problem
        where false
    {%- endif %}
),

final as (
    select
        delivery_id,
        audience_id,
        split_id,
        external_id,
        braze_id,
        identity_problem
    from pending_rows
    union all
    select
        delivery_id,
        audience_id,
        split_id,
        external_id,
        braze_id,
        identity_problem
    from legacy_rows
)

select * from final
