-- The input of customers_snapshot (snapshots/customers_snapshot.yml): on a daily run only the
-- customers whose current version changed since the snapshot last ran, otherwise every customer
-- (macros/incremental_snapshot.sql). It reads the snapshot's own temporary tables, made by the
-- snapshot's pre_hook: nothing but the snapshot selects it.

-- Two branches, not `read_all or customer_id in (...)`: when PostgreSQL expects more changed ids
-- than fit in work_mem it evaluates that `in` row by row against the whole list, and a day of 10x
-- the usual volume at 1M users ran the snapshot for over 26 minutes. Each branch here is skipped
-- by a one-time filter, and the changed customers are a join.

select users.*
from {{ ref('stg_user_db__users') }} as users
where (select input.read_all from customers_snapshot__input as input)

union all

select users.*
from {{ ref('stg_user_db__users') }} as users
inner join (
    select distinct changed.id
    from {{ ledger('dbt_changed_ids') }} as changed
    inner join customers_snapshot__builds as build
        on changed.model = build.model and changed.batch = build.batch
) as changed_customers on users.customer_id = changed_customers.id
where not (select input.read_all from customers_snapshot__input as input)
