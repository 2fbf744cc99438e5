-- Which person each linked braze_id belongs to: the external_id it was last seen with (ties:
-- the lowest external_id). Two external_ids are never merged into one person; a braze_id seen
-- with several is a conflict, resolved this way (docs/decisions/0020-dbt-identity-resolution.md).
with

links as (
    select * from {{ ref('int_identity_links') }}
),

ranked as (
    select
        braze_id,
        external_id,
        count(*) over (partition by braze_id) as linked_external_ids
    from links
    qualify
        row_number() over (
            partition by braze_id order by last_seen_at desc nulls last, external_id asc
        ) = 1
),

final as (
    select
        braze_id,
        external_id,
        linked_external_ids > 1 as has_conflict
    from ranked
)

select * from final
