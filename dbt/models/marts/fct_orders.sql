{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[
            {'columns': ['order_id']},
            {'columns': ['customer_id']},
            {'columns': ['source_customer_id']},
        ],
        pre_hook=[
            "{{ stage_changes() }}",
            "{{ delete_changed_facts('order_id', 'stg_ecommerce__orders') }}",
        ],
        post_hook="{{ consume_changes(changed_fact_ids('order_id')) }}",
        meta={
            'rows_key': 'order_id',
            'consumes': ['stg_ecommerce__orders', 'stg_user_db__users'],
        },
    )
}}

-- Incremental (macros/incremental_marts.sql): a daily run rebuilds only the records that changed
-- in staging and those whose user changed.
-- depends_on: {{ ref('stg_user_db__users') }}
-- depends_on: {{ ref('stg_ecommerce__orders') }}

with

orders as (

    select assigned.* from {{ ref('int_orders_assigned_to_customers') }} as assigned
    {% if is_incremental() %}
    {{ join_changed_facts('assigned', 'order_id') }}
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
