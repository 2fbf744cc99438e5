-- Every (external_id, braze_id) pair ever seen together on one valid row, in any stream, with
-- when it was last seen (delivery exported_at, or event_time). Kept across builds: only the
-- rows read in this build add pairs.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['external_id', 'braze_id'],
        full_refresh=false,
    )
}}

with

membership_deliveries as (
    select * from {{ ref('int_membership_deliveries_validated') }}
),

membership_rows as (
    select * from {{ ref('int_membership_rows_pending') }}
),

attribute_deliveries as (
    select * from {{ ref('int_attribute_deliveries_validated') }}
),

attribute_rows as (
    select * from {{ ref('int_attribute_rows_pending') }}
),

events as (
    select * from {{ ref('int_events_loaded') }}
    where loaded_at = {{ aiq_run_started_at() }}
),

membership_pairs as (
    select
        membership_rows.external_id,
        membership_rows.braze_id,
        max(membership_deliveries.exported_at) as seen_at
    from membership_rows
    inner join membership_deliveries
        on membership_rows.delivery_id = membership_deliveries.delivery_id
    where
        membership_rows.identity_problem is null
        and membership_rows.external_id is not null
        and membership_rows.braze_id is not null
    group by membership_rows.external_id, membership_rows.braze_id
),

attribute_pairs as (
    select
        attribute_rows.external_id,
        attribute_rows.braze_id,
        max(attribute_deliveries.exported_at) as seen_at
    from attribute_rows
    inner join attribute_deliveries
        on attribute_rows.delivery_id = attribute_deliveries.delivery_id
    where
        attribute_rows.identity_problem is null
        and attribute_rows.external_id is not null
        and attribute_rows.braze_id is not null
    group by attribute_rows.external_id, attribute_rows.braze_id
),

event_pairs as (
    select
        external_id,
        braze_id,
        max(event_time) as seen_at
    from events
    where
        rejection_reason is null
        and external_id is not null
        and braze_id is not null
    group by external_id, braze_id
),

new_pairs as (
    select
        external_id,
        braze_id,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at
    from (
        select * from membership_pairs
        union all
        select * from attribute_pairs
        union all
        select * from event_pairs
    ) as seen
    group by external_id, braze_id
),

final as (
    {%- if is_incremental() %}
        select
            new_pairs.external_id,
            new_pairs.braze_id,
            least(new_pairs.first_seen_at, known.first_seen_at) as first_seen_at,
            greatest(new_pairs.last_seen_at, known.last_seen_at) as last_seen_at
        from new_pairs
        left join {{ this }} as known
            on
                new_pairs.external_id = known.external_id
                and new_pairs.braze_id = known.braze_id
    {%- else %}
        select
            external_id,
            braze_id,
            first_seen_at,
            last_seen_at
        from new_pairs
    {%- endif %}
)

select * from final
