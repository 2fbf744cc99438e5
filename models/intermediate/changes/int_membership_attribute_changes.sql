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
        {{ aiq_person_key_type('members.external_id', 'owners.external_id') }} as person_key_type,
        {{ aiq_person_key('members.external_id', 'owners.external_id', 'members.braze_id') }}
            as person_key
    from members
    left join owners
        on
            members.external_id is null
            and members.braze_id = owners.braze_id
),

-- Member rows are not made distinct before the join (at tens of millions of rows that costs as
-- much as the join): a person listed twice matches the same ledger row twice, and the repeated
-- changes this gives (the same value: it depends only on the person and split) are grouped at
-- the end, where only the changes are left.
compared as (
    select
        coalesce(member_persons.person_key_type, ledger.person_key_type) as person_key_type,
        coalesce(member_persons.person_key, ledger.person_key) as person_key,
        coalesce(member_persons.attribute_name, ledger.attribute_name) as attribute_name,
        member_persons.person_key is not null as is_member,
        ledger.value_json as held_value_json
    from member_persons
    full outer join ledger
        on
            member_persons.person_key = ledger.person_key
            and member_persons.person_key_type = ledger.person_key_type
            and member_persons.attribute_name = ledger.attribute_name
),

decided as (
    select
        compared.person_key_type,
        compared.person_key,
        compared.attribute_name,
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

-- Only the key and the value go through the group-by; the deciding delivery depends on the split
-- alone and is attached after it (carrying it through the aggregate of tens of millions of rows
-- made it nearly twice as slow).
changes as (
    select
        person_key_type,
        person_key,
        attribute_name,
        any_value(value_json) as value_json
    from decided
    where value_json is not null
    group by person_key_type, person_key, attribute_name
),

final as (
    select
        changes.person_key_type,
        changes.person_key,
        changes.attribute_name,
        changes.value_json,
        'membership' as source_stream,
        splits.delivery_id as source_id
    from changes
    inner join splits on changes.attribute_name = splits.attribute_name
)

select * from final
