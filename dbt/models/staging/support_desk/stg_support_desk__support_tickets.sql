{{
    config(
        indexes=[
            {'columns': ['ticket_id'], 'unique': true},
            {'columns': ['_source_key']},
        ],
        pre_hook="{{ stage_new_loads(source('support_desk', 'support_tickets'), 'ticket_id', 'ticket_id', 'customer_id') }}",
        post_hook="{{ record_new_loads('ticket_id', 'customer_id') }}",
        meta={'rows_key': 'ticket_id'},
    )
}}

-- Incremental (macros/incremental_staging.sql): a daily run reads only the new loads' rows and
-- the current rows of the ids they touch; a full refresh reads everything. Same result.

with

source as (

    {% if is_incremental() %}
    {{ new_raw_rows(source('support_desk', 'support_tickets'), 'ticket_id', 'ticket_id') }}
    {% else %}
    select * from {{ source('support_desk', 'support_tickets') }}
    {% endif %}

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

flagged as (

    -- validity is a property of each version: flag before picking the current one
    select
        *,
        {{ in_timestamp_domain('created_at') }}
        and {{ in_timestamp_domain('updated_at') }}
        and (resolved_at is null or {{ in_timestamp_domain('resolved_at') }}) as has_valid_timestamps

    from renamed

),

validated as (

    select
        *,
        -- docs/data-model.md, Rules: a valid ticket is unresolved or resolved no earlier than it was created;
        -- timestamps outside the contract's domain make it invalid too
        (resolved_at is null or resolved_at >= created_at) and has_valid_timestamps as is_valid

    from flagged

),

candidates as (

    select * from validated
    {% if is_incremental() %}
    union all
    {{ previous_current_rows() }}
    {% endif %}

),

current_version as (

    {{ keep_current_version('candidates', 'ticket_id') }}

)

select * from current_version
