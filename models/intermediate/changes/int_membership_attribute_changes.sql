-- Membership attribute values to send, per person and split: desired membership against what
-- the ledger holds. Entering -> true; leaving (ledger true, not a member) -> false; never a
-- member -> nothing; a value the ledger already holds -> nothing. A retired split becomes
-- var aiq_retired_split_value ('false': on profiles holding true; 'null': on profiles holding
-- any value). Splits never named by a delivery are left alone.
{%- set retired_value = aiq_retired_split_value() %}

with

members as (
    select * from {{ ref('int_audience_members') }}
),

splits as (
    select * from {{ ref('int_audience_splits') }}
),

owners as (
    select * from {{ ref('int_braze_id_owners') }}
),

ledger as (
    select * from {{ ref('int_ledger_person_values') }}
    where attribute_name like 'AIQ\_%' escape '\'
),

member_persons as (
    select
        members.attribute_name,
        {{ aiq_person_id('members.external_id', 'owners.external_id', 'members.braze_id') }}
            as person_id
    from members
    left join owners
        on
            members.external_id is null
            and members.braze_id = owners.braze_id
),

desired as (
    select distinct
        person_id,
        attribute_name
    from member_persons
),

compared as (
    select
        coalesce(desired.person_id, ledger.person_id) as person_id,
        coalesce(desired.attribute_name, ledger.attribute_name) as attribute_name,
        desired.person_id is not null as is_member,
        ledger.value_json as held_value_json
    from desired
    full outer join ledger
        on
            desired.person_id = ledger.person_id
            and desired.attribute_name = ledger.attribute_name
),

decided as (
    select
        compared.person_id,
        compared.attribute_name,
        splits.delivery_id,
        case
            {%- if retired_value == 'null' %}
                when splits.is_retired and compared.held_value_json != 'null' then 'null'
            {%- else %}
                when splits.is_retired and compared.held_value_json = 'true' then 'false'
            {%- endif %}
            when splits.is_retired then null
            when compared.is_member and coalesce(compared.held_value_json, '') != 'true'
                then 'true'
            when not compared.is_member and compared.held_value_json = 'true' then 'false'
        end as value_json
    from compared
    inner join splits on compared.attribute_name = splits.attribute_name
),

final as (
    select
        person_id,
        attribute_name,
        value_json,
        'membership' as source_stream,
        delivery_id as source_id
    from decided
    where value_json is not null
)

select * from final
