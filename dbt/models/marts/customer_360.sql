{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[{'columns': ['customer_id']}],
        pre_hook=[
            "{{ stage_changes() }}",
            "{% if is_incremental() %}delete from {{ this }}"
            " where customer_id in ({{ changed_customers() }}){% endif %}",
        ],
        post_hook="{{ consume_changes(changed_customers()) }}",
        meta={
            'rows_key': 'customer_id',
            'consumes': ['stg_user_db__users', 'stg_ecommerce__orders', 'stg_support_desk__support_tickets'],
        },
    )
}}

-- Incremental (macros/incremental_marts.sql): a daily run rebuilds the customers whose profile,
-- orders or tickets changed; the facts are current by then (they are its parents).

-- docs/data-model.md (customer_360 columns), column by column: one row per known customer (the "unknown customer"
-- member and the orphan facts pointing at it are left out), customers without orders included.

with

customers as (

    select * from {{ ref('dim_customers') }}
    where not is_unknown_member
    {% if is_incremental() %}
    and customer_id in ({{ changed_customers() }})
    {% endif %}

),

revenue_orders as (

    -- fct_orders holds valid orders only; cancelled and returned ones do not count
    select * from {{ ref('fct_orders') }}
    where is_revenue_order
    {% if is_incremental() %}
    and customer_id in ({{ changed_customers() }})
    {% endif %}

),

tickets as (

    -- fct_support_tickets holds valid tickets only
    select * from {{ ref('fct_support_tickets') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers() }})
    {% endif %}

),

order_summary as (

    select
        customer_id,
        count(*) as order_count,
        sum(amount) as lifetime_value,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at

    from revenue_orders
    group by customer_id

),

ticket_summary as (

    select
        customer_id,
        count(*) as ticket_count,
        count(*) filter (where is_open) as open_ticket_count,
        avg(resolution_hours) as avg_resolution_hours,
        avg(csat) as avg_csat

    from tickets
    group by customer_id

),

joined as (

    select
        ---------- customer
        customers.customer_id,
        customers.full_name,
        customers.email,
        customers.country,
        customers.signed_up_at,

        ---------- orders
        coalesce(order_summary.order_count, 0)::bigint as order_count,
        coalesce(order_summary.lifetime_value, 0)::numeric(14, 2) as lifetime_value,
        -- rounded to the cent like every money column; NULL (not 0) without orders
        (order_summary.lifetime_value / nullif(order_summary.order_count, 0))::numeric(14, 2)
            as avg_order_value,
        order_summary.first_order_at,
        order_summary.last_order_at,

        ---------- support
        coalesce(ticket_summary.ticket_count, 0)::bigint as ticket_count,
        coalesce(ticket_summary.open_ticket_count, 0)::bigint as open_ticket_count,
        round(ticket_summary.avg_resolution_hours, 2)::numeric(12, 2) as avg_resolution_hours,
        round(ticket_summary.avg_csat, 2)::numeric(3, 2) as avg_csat

    from customers
    left join order_summary
        on customers.customer_id = order_summary.customer_id
    left join ticket_summary
        on customers.customer_id = ticket_summary.customer_id

),

segmented as (

    select
        *,
        case
            when order_count = 0 then 'none'
            when lifetime_value >= {{ var('value_segment_high_from') }} then 'high'
            when lifetime_value >= {{ var('value_segment_medium_from') }} then 'medium'
            else 'low'
        end as value_segment,
        order_count >= 2 as is_repeat_customer

    from joined

)

select * from segmented
