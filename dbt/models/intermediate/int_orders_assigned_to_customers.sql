-- Valid orders only (invalid ones stay visible in staging and are counted by warn tests), each
-- pointed at its customer, or at the "unknown customer" member when its user id matches no user.

with

orders as (

    select * from {{ ref('stg_ecommerce__orders') }}
    where is_valid

),

customers as (

    select customer_id from {{ ref('stg_user_db__users') }}

),

assigned as (

    select
        orders.order_id,
        coalesce(customers.customer_id, {{ var('unknown_customer_id') }}) as customer_id,
        orders.customer_id as source_customer_id,
        orders.currency,
        orders.status,
        orders.amount,
        orders.status not in {{ sql_list(var('non_revenue_order_statuses')) }} as is_revenue_order,
        orders.ordered_at,
        (orders.ordered_at at time zone 'UTC')::date as order_date,
        orders.updated_at,
        orders._loaded_at

    from orders
    left join customers
        on orders.customer_id = customers.customer_id

)

select * from assigned
