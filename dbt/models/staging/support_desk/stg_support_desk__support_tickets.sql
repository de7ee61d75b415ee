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

),

flagged as (

    select
        *,
        {{ in_timestamp_domain('created_at') }}
        and {{ in_timestamp_domain('updated_at') }}
        and (resolved_at is null or {{ in_timestamp_domain('resolved_at') }}) as has_valid_timestamps

    from current_version

)

select
    *,
    -- docs/data-model.md, Rules: a valid ticket is unresolved or resolved no earlier than it was created;
    -- timestamps outside the contract's domain make it invalid too
    (resolved_at is null or resolved_at >= created_at) and has_valid_timestamps as is_valid

from flagged
