-- The sync runs whose ledger rows have passed the ledger's uniqueness test: that test checks
-- only the keys written by other runs (data-tests/generic/unique_combination.sql). Built from
-- the ledger, so dbt builds it after the ledger's tests, and never after a failed one. A run's
-- rows are all written before the next build starts (one writer at a time; every run has its
-- own run_id).
with

ledger as (
    select * from {{ ref('sync_attribute_ledger') }}
),

final as (
    select distinct run_id
    from ledger
    where run_id is not null
)

select * from final
