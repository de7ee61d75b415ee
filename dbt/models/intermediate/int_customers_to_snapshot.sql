-- The input of customers_snapshot (snapshots/customers_snapshot.yml): on a daily run only the
-- customers whose current version changed since the snapshot last ran, otherwise every customer
-- (macros/incremental_snapshot.sql). It reads the snapshot's own temporary tables, made by the
-- snapshot's pre_hook: nothing but the snapshot selects it.

select users.*
from {{ ref('stg_user_db__users') }} as users
where
    (select input.read_all from customers_snapshot__input as input)
    or users.customer_id in (
        select changed.id
        from {{ ledger('dbt_changed_ids') }} as changed
        inner join customers_snapshot__builds as build on changed.batch = build.batch
        where changed.model = 'stg_user_db__users'
    )
