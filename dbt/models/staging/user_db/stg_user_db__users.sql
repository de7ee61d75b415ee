{{
    config(
        indexes=[
            {'columns': ['customer_id'], 'unique': true},
            {'columns': ['_source_key']},
        ],
        pre_hook="{{ stage_new_loads(source('user_db', 'users'), 'user_id', 'customer_id', 'customer_id') }}",
        post_hook="{{ record_new_loads('customer_id', 'customer_id') }}",
        meta={'rows_key': 'customer_id'},
    )
}}

-- Incremental (macros/incremental_staging.sql): a daily run reads only the new loads' rows and
-- the current rows of the ids they touch; a full refresh reads everything. Same result.

with

source as (

    {% if is_incremental() %}
    {{ new_raw_rows(source('user_db', 'users'), 'user_id', 'customer_id') }}
    {% else %}
    select * from {{ source('user_db', 'users') }}
    {% endif %}

),

renamed as (

    select
        ---------- ids
        user_id as customer_id,

        ---------- text
        btrim(name) as full_name,
        -- e-mail addresses are compared case-insensitively; exports add stray case and spaces
        nullif(lower(btrim(email, E' \t\r\n')), '') as email,
        phone,
        address,
        country,

        ---------- timestamps
        created_at as signed_up_at,
        updated_at,

        ---------- lineage
        _source_key,
        _loaded_at,
        _line_number

    from source

),

candidates as (

    select * from renamed
    {% if is_incremental() %}
    union all
    {{ previous_current_rows() }}
    {% endif %}

),

current_version as (

    {{ keep_current_version('candidates', 'customer_id') }}

)

select * from current_version
