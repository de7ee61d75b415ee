with

source as (

    select * from {{ source('support_desk', 'support_tickets') }}

),

renamed as (

    select
        ---------- ids
        ticket_id,
        user_id as customer_id,

        ---------- text
        status,
        priority,
        channel,

        ---------- numerics
        csat,

        ---------- timestamps
        created_at,
        resolved_at,
        updated_at,

        ---------- lineage
        _source_key,
        _loaded_at,
        _line_number

    from source

),

current_version as (

    {{ keep_current_version('renamed', 'ticket_id') }}

)

select
    *,
    -- docs/data-model.md, Rules: a valid ticket is unresolved or resolved no earlier than it was created
    (resolved_at is null or resolved_at >= created_at) as is_valid

from current_version
