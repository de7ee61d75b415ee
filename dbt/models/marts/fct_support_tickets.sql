{{
    config(
        materialized='incremental',
        unique_key='ticket_id',
        incremental_strategy='merge',
        on_schema_change='fail',
        pre_hook="{{ delete_facts_turned_invalid('ticket_id', ref('stg_support_desk__support_tickets')) }}",
    )
}}

-- Read only on incremental runs (customer arrivals, facts turned invalid); declared for the DAG:
-- depends_on: {{ ref('stg_user_db__users') }}
-- depends_on: {{ ref('stg_support_desk__support_tickets') }}

with

tickets as (

    select * from {{ ref('int_support_tickets_assigned_to_customers') }}

    {% if is_incremental() %}
    where {{ fact_rows_to_refresh() }}
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
