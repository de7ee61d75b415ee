-- Valid tickets only (invalid ones stay visible in staging and are counted by warn tests), each
-- pointed at its customer, or at the "unknown customer" member when its user id matches no user.

-- One select, no CTEs, for the reason given in int_orders_assigned_to_customers.sql: inlined
-- into fct_support_tickets, a WITH here would keep a daily run from reading only the day's
-- tickets.

select
    tickets.ticket_id,
    coalesce(customers.customer_id, {{ var('unknown_customer_id') }}) as customer_id,
    tickets.customer_id as source_customer_id,
    tickets.status,
    tickets.priority,
    tickets.channel,
    tickets.status in {{ sql_list(var('open_ticket_statuses')) }} as is_open,
    tickets.csat,
    -- exact hours (numeric), rounded only where customer_360 averages them
    extract(epoch from tickets.resolved_at - tickets.created_at) / 3600 as resolution_hours,
    tickets.created_at,
    (tickets.created_at at time zone 'UTC')::date as created_date,
    tickets.resolved_at,
    tickets.updated_at,
    tickets._loaded_at

from {{ ref('stg_support_desk__support_tickets') }} as tickets
left join {{ ref('stg_user_db__users') }} as customers
    on tickets.customer_id = customers.customer_id
where tickets.is_valid
