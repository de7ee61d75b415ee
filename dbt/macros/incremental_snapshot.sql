{#-
    The snapshot's daily input: only the customers whose current version changed since the
    snapshot last ran (docs/data-model.md, "Incremental design"). The snapshot has no hard-delete
    handling, so a customer left out of its input is left as it is: comparing the unchanged ones
    (all of `stg_user_db__users`) every day is work for nothing.

    The pre_hook (`stage_snapshot_input`) takes, in the snapshot's session, the runs of the staging
    model the snapshot has not consumed (`dbt_model_builds`); the input
    (`int_customers_to_snapshot`) is every customer when one of them was a full build, or when the
    snapshot has never consumed one (its first run, or the first after an upgrade), otherwise the
    customers those runs logged as changed (`dbt_changed_ids`). The post_hook
    (`consume_snapshot_input`) records those runs as consumed, in the same transaction.
-#}

{% macro stage_snapshot_input() -%}
    {%- set name = this.identifier -%}
    drop table if exists {{ name }}__builds;
    create temporary table {{ name }}__builds as
    select build.model, build.batch, build.full_refresh
    from {{ ledger('dbt_model_builds') }} as build
    where
        build.model in {{ sql_list(consumed_models()) }}
        and {{ not_consumed_by(name, 'build.model', 'build.batch') }};
    drop table if exists {{ name }}__input;
    create temporary table {{ name }}__input as
    select
        exists (select from {{ name }}__builds where full_refresh)
        or not exists (
            select from {{ ledger('dbt_consumed_batches') }} where consumer = '{{ name }}'
        ) as read_all;
{%- endmacro %}

{% macro consume_snapshot_input() -%}
    insert into {{ ledger('dbt_consumed_batches') }} (consumer, model, batch)
    select '{{ this.identifier }}', model, batch from {{ this.identifier }}__builds;
{%- endmacro %}
