{#-
    Incremental staging: a day's run touches only the ids that the day's loads bring.
    (docs/data-model.md, "Incremental design", explains it for the reader; this is the how.)

    The per-load watermark. `staging._loads` has one row per lake object with the time of its
    load (`loaded_at`, equal to the `_loaded_at` of all its rows). `dbt_processed_loads` records,
    per staging model, the (object, loaded_at) pairs the model has taken in. The new loads are
    those of `_loads` that the model has not recorded with that `loaded_at`: new objects and
    objects the loader *replaced* (same key, later loaded_at), plus objects recorded but gone from
    `_loads` (rows deleted by hand), which count as replaced by nothing. A load that commits while
    dbt runs is simply new on the next run: nothing depends on clocks or commit order.

    The pre_hook (`stage_new_loads`), in the model's transaction:
      1. `<model>__loads`: snapshot of the new loads (the post_hook records exactly these);
      2. `<model>__affected`: the ids of the new loads' rows, plus the ids whose current version
         came from one of those objects' keys (its old version may be gone: a replaced object);
      3. `<model>__previous`: the current rows of the affected ids, logged as changed
         (`dbt_changed_ids`, with their customer) and deleted from the model.
    The model then keeps the current version among: the new loads' rows, the previous current
    rows that do not come from a replaced object, and -- only when a replaced object held current
    versions -- every raw version of those ids. That is the full rule applied to the candidates
    that can win, so the result equals a full refresh. The post_hook (`record_new_loads`) logs the
    affected ids' new rows as changed and records the loads; everything commits together.

    Marts read `dbt_changed_ids` (macros/incremental_marts.sql). The temporary tables live in the
    model's own session, so the model's SQL may name them.
-#}

{% macro ledger(name) -%}
    {{ target.schema }}.{{ name }}
{%- endmacro %}

{#- on-run-start: the bookkeeping tables of the incremental models (not dbt models: a
    model's --full-refresh must not forget what was processed). -#}
{% macro create_ledgers() %}
    {%- if execute and flags.WHICH in ('build', 'run', 'snapshot') -%}
        create table if not exists {{ ledger('dbt_processed_loads') }} (
            model text not null,
            source_key text not null,
            loaded_at timestamptz not null,
            primary key (model, source_key)
        );
        create table if not exists {{ ledger('dbt_changed_ids') }} (
            model text not null,
            batch text not null,
            id bigint not null,
            customer_id bigint
        );
        create index if not exists dbt_changed_ids__batch on {{ ledger('dbt_changed_ids') }} (model, batch);
        create table if not exists {{ ledger('dbt_model_builds') }} (
            model text not null,
            batch text not null,
            full_refresh boolean not null,
            primary key (model, batch)
        );
        create table if not exists {{ ledger('dbt_consumed_batches') }} (
            consumer text not null,
            model text not null,
            batch text not null,
            primary key (consumer, model, batch)
        );
    {%- endif -%}
{% endmacro %}

{#- on-run-start: forget the changed ids that every consumer has taken in. Without it the ledger
    grows by each day's changes for ever, and every mart's search for the batches it has not
    consumed (`stage_changes`) reads all of them: a cost that follows the history, not the day.
    The consumers of a model are the project's nodes that name it in `meta.consumes` (the
    incremental marts, the snapshot): a consumer added later keeps nothing waiting for it (its
    first build reads all of staging), and one removed from the project holds nothing back. A
    batch of a model nobody consumes (a mart's log of its own rebuilt keys, which only the tests
    of its run read) is done with once its run is over; the current run's batches are kept. -#}
{% macro prune_changed_ids() %}
    {%- if execute and flags.WHICH in ('build', 'run', 'snapshot') -%}
        {%- set consumers = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- for model in (node.config.get('meta') or {}).get('consumes', []) -%}
                {%- do consumers.append("('" ~ node.name ~ "', '" ~ model ~ "')") -%}
            {%- endfor -%}
        {%- endfor %}
        delete from {{ ledger('dbt_changed_ids') }} as changed
        using {{ ledger('dbt_model_builds') }} as build
        where
            changed.model = build.model
            and changed.batch = build.batch
            and build.batch <> '{{ invocation_id }}'
            and not exists (
                select
                from (values {{ consumers | join(', ') or "(null, null)" }}) as consumer (name, model)
                where
                    consumer.model = build.model
                    and not exists (
                        select from {{ ledger('dbt_consumed_batches') }} as consumed
                        where
                            consumed.consumer = consumer.name
                            and consumed.model = build.model
                            and consumed.batch = build.batch
                    )
            );
    {%- endif -%}
{% endmacro %}

{% macro stage_new_loads(raw_relation, raw_id, id, customer_column) -%}
    {%- set name = this.identifier -%}
    {%- set loads = ledger('dbt_processed_loads') -%}
    drop table if exists {{ name }}__run;
    create temporary table {{ name }}__run as select {{ not is_incremental() }} as full_refresh;
    drop table if exists {{ name }}__loads;
    create temporary table {{ name }}__loads as
    select new_load.source_key, new_load.loaded_at
    from {{ raw_relation.schema }}._loads as new_load
    where
        new_load.source = '{{ raw_relation.identifier }}'
        {%- if is_incremental() %}
        and not exists (
            select from {{ loads }} as processed
            where
                processed.model = '{{ name }}'
                and processed.source_key = new_load.source_key
                and processed.loaded_at = new_load.loaded_at
        )
    union all
    select processed.source_key, null::timestamptz as loaded_at
    from {{ loads }} as processed
    where
        processed.model = '{{ name }}'
        and not exists (
            select from {{ raw_relation.schema }}._loads as still_loaded
            where still_loaded.source_key = processed.source_key
        )
        {%- endif %};
    analyze {{ name }}__loads;
    drop table if exists {{ name }}__affected;
    create temporary table {{ name }}__affected as
    {%- if is_incremental() %}
    select raw.{{ raw_id }} as id
    from {{ raw_relation }} as raw
    inner join {{ name }}__loads as new_load
        on raw._source_key = new_load.source_key and raw._loaded_at = new_load.loaded_at
    union
    select current_row.{{ id }}
    from {{ this }} as current_row
    inner join {{ name }}__loads as new_load on current_row._source_key = new_load.source_key;
    {%- else %}
    select null::bigint as id where false;
    {%- endif %}
    analyze {{ name }}__affected;
    drop table if exists {{ name }}__previous;
    {%- if is_incremental() %}
    create temporary table {{ name }}__previous as
    select * from {{ this }} where {{ id }} in (select id from {{ name }}__affected);
    insert into {{ ledger('dbt_changed_ids') }} (model, batch, id, customer_id)
    select '{{ name }}', '{{ invocation_id }}', {{ id }}, {{ customer_column }} from {{ name }}__previous;
    delete from {{ this }} where {{ id }} in (select id from {{ name }}__affected);
    {%- endif %}
{%- endmacro %}

{#- The raw rows a run reads: the new loads' rows and, only when a replaced object held current
    versions, every version of those ids (the one-time filter skips the scan otherwise). -#}
{% macro new_raw_rows(raw_relation, raw_id, id) -%}
    {%- set name = this.identifier -%}
    select raw.*
    from {{ raw_relation }} as raw
    inner join {{ name }}__loads as new_load
        on raw._source_key = new_load.source_key and raw._loaded_at = new_load.loaded_at
    union all
    select raw.*
    from {{ raw_relation }} as raw
    where
        exists (
            select from {{ name }}__previous as displaced
            inner join {{ name }}__loads as new_load on displaced._source_key = new_load.source_key
        )
        and raw.{{ raw_id }} in (
            select displaced.{{ id }}
            from {{ name }}__previous as displaced
            inner join {{ name }}__loads as new_load on displaced._source_key = new_load.source_key
        )
{%- endmacro %}

{#- The previous current rows that can still win: those not from an object loaded anew. -#}
{% macro previous_current_rows() -%}
    {%- set name = this.identifier -%}
    select previous.*
    from {{ name }}__previous as previous
    where not exists (
        select from {{ name }}__loads as new_load
        where new_load.source_key = previous._source_key
    )
{%- endmacro %}

{% macro record_new_loads(id, customer_column) -%}
    {%- set name = this.identifier -%}
    {%- set loads = ledger('dbt_processed_loads') -%}
    insert into {{ ledger('dbt_changed_ids') }} (model, batch, id, customer_id)
    select '{{ name }}', '{{ invocation_id }}', {{ id }}, {{ customer_column }}
    from {{ this }}
    where {{ id }} in (select id from {{ name }}__affected);
    delete from {{ loads }} as processed
    where
        processed.model = '{{ name }}'
        and (
            (select full_refresh from {{ name }}__run)
            or processed.source_key in (select source_key from {{ name }}__loads)
        );
    insert into {{ loads }} (model, source_key, loaded_at)
    select '{{ name }}', source_key, loaded_at from {{ name }}__loads where loaded_at is not null;
    {%- if is_incremental() %}
    {{ analyze_changed_ids() }}
    {%- endif %}
    {{ record_build() }}
    {{ analyze_if_rebuilt() }}
{%- endmacro %}

{#- After a run logged its keys: the day's tests and the next models find them with
    `model = ... and batch = ...`, and without fresh statistics PostgreSQL expects one row there
    and plans for one. On a day of 10x the usual volume at 1M users (396k rebuilt orders) each
    test on fct_orders then took ~4 s, and the marts step 83 s; analyzed, 41 s. The ledger is
    pruned to the batches still in use, so this reads a sample of a few days' changes at most. -#}
{% macro analyze_changed_ids() -%}
    analyze {{ ledger('dbt_changed_ids') }};
{%- endmacro %}

{#- This run of the model, for its tests (macros/day_scoped_tests.sql): incremental or in full. -#}
{% macro record_build() -%}
    insert into {{ ledger('dbt_model_builds') }} (model, batch, full_refresh)
    select '{{ this.identifier }}', '{{ invocation_id }}', full_refresh from {{ this.identifier }}__run;
{%- endmacro %}

{#- A table just rebuilt has no planner statistics; the next models would plan blind. An
    incremental run changes a few percent of the rows and leaves that to autovacuum. -#}
{% macro analyze_if_rebuilt() -%}
    do $analyze$ begin
        if (select full_refresh from {{ this.identifier }}__run) then
            execute 'analyze {{ this }}';
        end if;
    end $analyze$;
{%- endmacro %}
