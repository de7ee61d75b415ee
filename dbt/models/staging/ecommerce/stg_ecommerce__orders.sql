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
        -- NaN >= 0 is true in PostgreSQL: a non-finite amount must not count as valid
        amount >= 0 and amount != 'NaN'::numeric as has_valid_amount,
        status in {{ sql_list(var('order_statuses')) }} as has_known_status,
        {{ in_timestamp_domain('ordered_at') }}
        and {{ in_timestamp_domain('updated_at') }} as has_valid_timestamps

    from current_version

)

select
    *,
    -- docs/data-model.md, Rules: a valid order has amount >= 0 and a known status; values outside the
    -- contract's domain make it invalid too. Invalid orders stop here.
    has_valid_amount and has_known_status and has_valid_timestamps as is_valid

from flagged
