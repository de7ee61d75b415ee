{{
    config(
        indexes=[
            {'columns': ['order_id'], 'unique': true},
            {'columns': ['_source_key']},
        ],
        pre_hook="{{ stage_new_loads(source('ecommerce', 'orders'), 'order_id', 'order_id', 'customer_id') }}",
        post_hook="{{ record_new_loads('order_id', 'customer_id') }}",
        meta={'rows_key': 'order_id'},
    )
}}

-- Incremental (macros/incremental_staging.sql): a daily run reads only the new loads' rows and
-- the current rows of the ids they touch; a full refresh reads everything. Same result.

with

source as (

    {% if is_incremental() %}
    {{ new_raw_rows(source('ecommerce', 'orders'), 'order_id', 'order_id') }}
    {% else %}
    select * from {{ source('ecommerce', 'orders') }}
    {% endif %}

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

flagged as (

    -- validity is a property of each version: flag before picking the current one
    select
        *,
        -- NaN >= 0 is true in PostgreSQL: a non-finite amount must not count as valid
        amount >= 0 and amount != 'NaN'::numeric as has_valid_amount,
        status in {{ sql_list(var('order_statuses')) }} as has_known_status,
        {{ in_timestamp_domain('ordered_at') }}
        and {{ in_timestamp_domain('updated_at') }} as has_valid_timestamps

    from renamed

),

validated as (

    select
        *,
        -- docs/data-model.md, Rules: a valid order has amount >= 0 and a known status; values outside the
        -- contract's domain make it invalid too. Invalid orders stop here.
        has_valid_amount and has_known_status and has_valid_timestamps as is_valid

    from flagged

),

candidates as (

    select * from validated
    {% if is_incremental() %}
    union all
    {{ previous_current_rows() }}
    {% endif %}

),

current_version as (

    {{ keep_current_version('candidates', 'order_id') }}

)

select * from current_version
