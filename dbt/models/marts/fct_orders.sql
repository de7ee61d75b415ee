{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='merge',
        on_schema_change='fail',
        pre_hook="{{ delete_stale_facts('order_id', ref('stg_ecommerce__orders')) }}",
    )
}}

-- Read only by the incremental pre_hook (macros/incremental_facts.sql); declared for the DAG:
-- depends_on: {{ ref('stg_user_db__users') }}
-- depends_on: {{ ref('stg_ecommerce__orders') }}

with

orders as (

    select * from {{ ref('int_orders_assigned_to_customers') }} as assigned

    {% if is_incremental() %}
    where {{ missing_from_fact('order_id', 'assigned') }}
    {% endif %}

)

select
    ---------- ids
    order_id,
    customer_id,
    source_customer_id,

    ---------- text
    currency,
    status,
    is_revenue_order,

    ---------- numerics
    amount,

    ---------- dates and timestamps
    order_date,
    ordered_at,
    updated_at,

    ---------- lineage
    _loaded_at

from orders
