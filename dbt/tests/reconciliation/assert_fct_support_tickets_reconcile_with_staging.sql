-- fct_support_tickets holds exactly the valid current tickets of staging, each with its current
-- status. Returns the tickets that are missing, extra, or stale in the fact. A daily run checks
-- the tickets it rebuilt (macros/day_scoped_tests.sql), a full refresh all.

with

staged as (

    select
        ticket_id,
        status,
        updated_at
    from {{ ref('stg_support_desk__support_tickets') }}
    where is_valid and {{ day_scope('fct_support_tickets', 'ticket_id') }}

),

fact as (

    select
        ticket_id,
        status,
        updated_at
    from {{ ref('fct_support_tickets') }}
    where {{ day_scope('fct_support_tickets', 'ticket_id') }}

)

select
    coalesce(staged.ticket_id, fact.ticket_id) as ticket_id,
    staged.status as staged_status,
    fact.status as fact_status

from staged
full outer join fact
    on staged.ticket_id = fact.ticket_id
where
    staged.ticket_id is null
    or fact.ticket_id is null
    or staged.status is distinct from fact.status
    or staged.updated_at is distinct from fact.updated_at
