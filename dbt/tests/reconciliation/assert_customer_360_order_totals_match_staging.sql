-- Order totals of every customer recomputed straight from staging, bypassing the facts:
-- valid orders of known customers, not cancelled or returned. Returns each customer whose
-- customer_360 order_count or lifetime_value differs (or who is missing from either side).
-- A daily run checks the customers it rebuilt (macros/day_scoped_tests.sql), a full refresh all.

with

customers as (

    select customer_id from {{ ref('stg_user_db__users') }}
    where {{ day_scope('customer_360', 'customer_id') }}

),

counted_orders as (

    select
        customer_id,
        amount
    from {{ ref('stg_ecommerce__orders') }}
    where
        is_valid
        and status not in {{ sql_list(var('non_revenue_order_statuses')) }}

),

expected as (

    select
        customers.customer_id,
        count(counted_orders.amount) as order_count,
        coalesce(sum(counted_orders.amount), 0) as lifetime_value

    from customers
    left join counted_orders
        on customers.customer_id = counted_orders.customer_id
    group by customers.customer_id

),

actual as (

    select
        customer_id,
        order_count,
        lifetime_value
    from {{ ref('customer_360') }}
    where {{ day_scope('customer_360', 'customer_id') }}

)

select
    coalesce(expected.customer_id, actual.customer_id) as customer_id,
    expected.order_count as expected_order_count,
    actual.order_count as actual_order_count,
    expected.lifetime_value as expected_lifetime_value,
    actual.lifetime_value as actual_lifetime_value

from expected
full outer join actual
    on expected.customer_id = actual.customer_id
where
    expected.customer_id is null
    or actual.customer_id is null
    or expected.order_count != actual.order_count
    or expected.lifetime_value != actual.lifetime_value
