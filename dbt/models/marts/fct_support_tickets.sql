{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[
            {'columns': ['ticket_id']},
            {'columns': ['customer_id']},
            {'columns': ['source_customer_id']},
        ],
        pre_hook=[
            "{{ stage_changes() }}",
            "{{ delete_changed_facts('ticket_id', 'stg_support_desk__support_tickets') }}",
        ],
        post_hook="{{ consume_changes(changed_fact_ids('ticket_id')) }}",
        meta={
            'rows_key': 'ticket_id',
            'consumes': ['stg_support_desk__support_tickets', 'stg_user_db__users'],
        },
    )
}}

-- Incremental (macros/incremental_marts.sql): a daily run rebuilds only the records that changed
-- in staging and those whose user changed.
-- depends_on: {{ ref('stg_user_db__users') }}
-- depends_on: {{ ref('stg_support_desk__support_tickets') }}

with

tickets as (

    select assigned.* from {{ ref('int_support_tickets_assigned_to_customers') }} as assigned
    {% if is_incremental() %}
    {{ join_changed_facts('assigned', 'ticket_id') }}
    {% endif %}

)

select
    ---------- ids
    ticket_id,
    customer_id,
    source_customer_id,

    ---------- text
    status,
    priority,
    channel,
    is_open,

    ---------- numerics
    csat,
    resolution_hours,

    ---------- dates and timestamps
    created_date,
    created_at,
    resolved_at,
    updated_at,

    ---------- lineage
    _loaded_at

from tickets
