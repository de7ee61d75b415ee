with

source as (

    select * from {{ source('user_db', 'users') }}

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

current_version as (

    {{ keep_current_version('renamed', 'customer_id') }}

)

select * from current_version
