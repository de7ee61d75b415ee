{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        indexes=[{'columns': ['customer_id']}],
        pre_hook=[
            "{{ stage_changes() }}",
            "{% if is_incremental() %}delete from {{ this }} where customer_id in ({{ changed_customers() }})"
            " and not is_unknown_member{% endif %}",
        ],
        post_hook="{{ consume_changes(changed_customers()) }}",
        meta={'rows_key': 'customer_id', 'consumes': ['stg_user_db__users']},
    )
}}

-- Incremental (macros/incremental_marts.sql): a daily run rebuilds the changed customers only.

with

customers as (

    select * from {{ ref('stg_user_db__users') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers() }})
    {% endif %}

),

known_customers as (

    select
        customer_id,
        full_name,
        email,
        phone,
        address,
        country,
        signed_up_at,
        updated_at,
        false as is_unknown_member

    from customers

),

-- The member that orders and tickets with a user id matching no user point at, so every fact
-- joins to the dimension (no row lost in an inner join) while customer_360 can leave them out.
unknown_customer as (

    select
        {{ var('unknown_customer_id') }}::bigint as customer_id,
        'Unknown customer'::text as full_name,
        null::text as email,
        null::text as phone,
        null::text as address,
        null::text as country,
        null::timestamptz as signed_up_at,
        null::timestamptz as updated_at,
        true as is_unknown_member

)

select * from known_customers
{% if not is_incremental() %}
union all
select * from unknown_customer
{% endif %}
