{{
    config(
        materialized='incremental',
        unique_key='ticket_id',
        incremental_strategy='merge',
        on_schema_change='fail',
        pre_hook="{{ delete_stale_facts('ticket_id', ref('stg_support_desk__support_tickets')) }}",
    )
}}

-- Read only by the incremental pre_hook (macros/incremental_facts.sql); declared for the DAG:
-- depends_on: {{ ref('stg_user_db__users') }}
-- depends_on: {{ ref('stg_support_desk__support_tickets') }}

with

tickets as (

    select * from {{ ref('int_support_tickets_assigned_to_customers') }} as assigned

    {% if is_incremental() %}
    where {{ missing_from_fact('ticket_id', 'assigned') }}
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
