-- A calendar spanning whole years around every date in the data (sign-ups, orders, tickets),
-- so each fact's date key finds its day and a new year's data extends it on the next build.
-- Only timestamps inside the contract's domain count: one `infinity` would otherwise make the
-- calendar endless ("timestamp out of range") and stop every build.

with

data_dates as (

    select
        min(signed_up_at) as first_at,
        max(signed_up_at) as last_at
    from {{ ref('stg_user_db__users') }}
    where {{ in_timestamp_domain('signed_up_at') }}
    union all
    select
        min(ordered_at) as first_at,
        max(ordered_at) as last_at
    from {{ ref('stg_ecommerce__orders') }}
    where has_valid_timestamps
    union all
    select
        min(created_at) as first_at,
        max(greatest(created_at, resolved_at)) as last_at
    from {{ ref('stg_support_desk__support_tickets') }}
    where has_valid_timestamps

),

bounds as (

    select
        date_trunc('year', coalesce(min(first_at), now()) at time zone 'UTC')::date as first_day,
        (
            date_trunc('year', coalesce(max(last_at), now()) at time zone 'UTC')
            + interval '1 year' - interval '1 day'
        )::date as last_day

    from data_dates

),

days as (

    select day::date as date_day
    from bounds
    cross join lateral generate_series(first_day, last_day, interval '1 day') as day

)

select
    date_day,
    extract(year from date_day)::int as year,
    extract(quarter from date_day)::int as quarter,
    extract(month from date_day)::int as month,
    to_char(date_day, 'FMMonth') as month_name,
    extract(isoyear from date_day)::int as iso_year,
    extract(week from date_day)::int as iso_week,
    extract(isodow from date_day)::int as day_of_week,
    to_char(date_day, 'FMDay') as day_name,
    extract(isodow from date_day) in (6, 7) as is_weekend,
    date_trunc('month', date_day)::date as first_day_of_month

from days
