-- fct_orders holds exactly the valid current orders of staging: same count, same total amount.
-- Catches an incremental run that lost, duplicated or kept stale orders. Returns a row on mismatch.

with

staged as (

    select
        count(*) as order_count,
        coalesce(sum(amount), 0) as total_amount
    from {{ ref('stg_ecommerce__orders') }}
    where is_valid

),

fact as (

    select
        count(*) as order_count,
        coalesce(sum(amount), 0) as total_amount
    from {{ ref('fct_orders') }}

)

select
    staged.order_count as staged_order_count,
    fact.order_count as fact_order_count,
    staged.total_amount as staged_total_amount,
    fact.total_amount as fact_total_amount

from staged
cross join fact
where
    staged.order_count != fact.order_count
    or staged.total_amount != fact.total_amount
