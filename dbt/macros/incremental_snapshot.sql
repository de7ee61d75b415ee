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

{#- dbt compares a snapshot's input with every current row of the snapshot: on a daily run, all
    the customers there are, a cost that follows the history. Without hard-delete handling a
    current row whose key is not in the input cannot change, so for a snapshot fed as above
    (`meta.consumes`) this compares the input with the current rows of its own keys only, or
    with all of them when the input is everyone (`read_all`, where the semi-join would only cost
    time). dbt's macro does the rest as always; dispatch finds the root project's
    `postgres__` version first. The keys are read through the macro's own CTE `snapshot_query`,
    which PostgreSQL computes once for all its readers. -#}
{% macro postgres__snapshot_staging_table(strategy, source_sql, target_relation) -%}
    {%- set fed_incrementally = (config.get('meta') or {}).get('consumes') -%}
    {%- if not fed_incrementally or strategy.hard_deletes in ('invalidate', 'new_record') -%}
        {{- return(default__snapshot_staging_table(strategy, source_sql, target_relation)) -}}
    {%- endif -%}
    {%- set read_all = '(select input.read_all from ' ~ this.identifier ~ '__input as input)' -%}
    {%- set current_rows_of_the_input -%}
        (
            select snapshotted.* from {{ target_relation }} as snapshotted
            where {{ read_all }}
            union all
            select snapshotted.* from {{ target_relation }} as snapshotted
            where
                not {{ read_all }}
                and snapshotted.{{ strategy.unique_key }} in (
                    select snapshot_query.{{ strategy.unique_key }} from snapshot_query
                )
        ) as current_rows_of_the_input
    {%- endset -%}
    {{- return(default__snapshot_staging_table(strategy, source_sql, current_rows_of_the_input)) -}}
{%- endmacro %}
