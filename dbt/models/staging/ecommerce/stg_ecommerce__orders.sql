with

source as (

    select * from {{ source('ecommerce', 'orders') }}

),

renamed as (

    select
        ---------- ids
        order_id,
        user_id as customer_id,

        ---------- text
        currency,
        status,

        ---------- numerics
        amount,

        ---------- timestamps
        order_date as ordered_at,
        updated_at,

        ---------- lineage
        _source_key,
        _loaded_at,
        _line_number

    from source

),

current_version as (

    {{ keep_current_version('renamed', 'order_id') }}

),

flagged as (

    select
        *,
        amount >= 0 as has_valid_amount,
        status in {{ sql_list(var('order_statuses')) }} as has_known_status

    from current_version

)

select
    *,
    -- docs/data-model.md, Rules: a valid order has amount >= 0 and a known status; invalid ones stop here
    has_valid_amount and has_known_status as is_valid

from flagged
