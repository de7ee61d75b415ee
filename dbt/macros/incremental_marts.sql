{#-
    Incremental marts: a day's run rebuilds only the rows of what changed in staging.
    (docs/data-model.md, "Incremental design", explains it for the reader; this is the how.)

    Every staging run logs the ids whose current version it rewrote or removed in
    `dbt_changed_ids` (macros/incremental_staging.sql), with the customer of the old and of the
    new version, under a batch (the dbt invocation). Each incremental mart records the batches it
    has taken in (`dbt_consumed_batches`): its pre_hook (`stage_changes`) snapshots the upstream
    batches it has not consumed yet into `<model>__batches` and their ids into `<model>__changed`;
    the model deletes and rebuilds the rows those ids determine; the post_hook (`consume_changes`)
    records the batches, in the same transaction. A batch committed while the mart runs is simply
    new on its next run. A full refresh consumes every batch there is (it reads all of staging).

    Why this equals a full refresh: every mart row is a function of the current staging rows of
    one id (a fact: its order or ticket, plus whether its user exists; a customer: the user, its
    orders and its tickets). When none of those changed, the row cannot have changed; when one
    changed, the id is in `<model>__changed` and the row is rebuilt from staging as it is now.
-#}

{% macro stage_changes() -%}
    {%- set name = this.identifier -%}
    {%- set upstream_models = consumed_models() -%}
    drop table if exists {{ name }}__run;
    create temporary table {{ name }}__run as select {{ not is_incremental() }} as full_refresh;
    drop table if exists {{ name }}__batches;
    create temporary table {{ name }}__batches as
    select distinct changed.model, changed.batch
    from {{ ledger('dbt_changed_ids') }} as changed
    where
        changed.model in {{ sql_list(upstream_models) }}
        and {{ not_consumed_by(name, 'changed.model', 'changed.batch') }};
    drop table if exists {{ name }}__changed;
    create temporary table {{ name }}__changed as
    select distinct changed.model, changed.id, changed.customer_id
    from {{ ledger('dbt_changed_ids') }} as changed
    inner join {{ name }}__batches as batch
        on changed.model = batch.model and changed.batch = batch.batch
    where {{ is_incremental() }};
    analyze {{ name }}__changed;
{%- endmacro %}

{#- The staging models whose changes this consumer (an incremental mart, the snapshot) takes in:
    its `meta.consumes`, the one list that its hooks and the ledger's pruning
    (`prune_changed_ids`) read. -#}
{% macro consumed_models() -%}
    {%- set models = (config.get('meta') or {}).get('consumes') -%}
    {#- parsing renders hooks without the node's config -#}
    {%- if not models and execute -%}
        {%- do exceptions.raise_compiler_error(
            this.identifier ~ ": meta.consumes must name the staging models whose changes it takes in"
        ) -%}
    {%- endif -%}
    {%- do return(models or []) -%}
{%- endmacro %}

{#- The batch (`model`, `batch`: SQL expressions) is not yet recorded as taken in by
    `consumer` in `dbt_consumed_batches`. -#}
{% macro not_consumed_by(consumer, model, batch) -%}
    not exists (
        select from {{ ledger('dbt_consumed_batches') }} as consumed
        where
            consumed.consumer = '{{ consumer }}'
            and consumed.model = {{ model }}
            and consumed.batch = {{ batch }}
    )
{%- endmacro %}

{#- `rebuilt`: a query of the keys this run deleted and rebuilt (changed_fact_ids or
    changed_customers), logged for the day's tests (macros/day_scoped_tests.sql). -#}
{% macro consume_changes(rebuilt) -%}
    {%- set name = this.identifier -%}
    insert into {{ ledger('dbt_consumed_batches') }} (consumer, model, batch)
    select '{{ name }}', model, batch from {{ name }}__batches;
    {%- if is_incremental() %}
    insert into {{ ledger('dbt_changed_ids') }} (model, batch, id)
    select distinct '{{ name }}', '{{ invocation_id }}', rebuilt.key from ({{ rebuilt }}) as rebuilt (key);
    {{ analyze_changed_ids() }}
    {%- endif %}
    {{ record_build() }}
    {{ analyze_if_rebuilt() }}
{%- endmacro %}

{#- The ids a fact rebuilds: its records that changed in staging, and its records whose user
    changed (arrived, so an orphan finds its customer, or vanished, so it becomes one). Deleted
    here; the model inserts those that are (still) valid. -#}
{% macro delete_changed_facts(id_column, staging_model) -%}
    {%- set name = this.identifier -%}
    {%- if is_incremental() -%}
        drop table if exists {{ name }}__ids;
        create temporary table {{ name }}__ids as
        select id as {{ id_column }} from {{ name }}__changed where model = '{{ staging_model }}'
        union
        select fact.{{ id_column }}
        from {{ this }} as fact
        where fact.source_customer_id in (
            select id from {{ name }}__changed where model = 'stg_user_db__users'
        );
        analyze {{ name }}__ids;
        delete from {{ this }} where {{ id_column }} in (select {{ id_column }} from {{ name }}__ids);
    {%- endif -%}
{%- endmacro %}

{#- The model-side filter of a fact: only the ids the pre_hook deleted (they are distinct: a
    union). A join, not `id in (...)`: PostgreSQL moves an inner join below the intermediate
    model's left join to the users (which it can only because that model is one flat select),
    so it reads the day's records and their users; the semi-join it kept above that join read
    every record joined to every user (fct_orders at 1M users: 5.0 s for a day's 48k orders). -#}
{% macro join_changed_facts(relation_alias, id_column) -%}
    inner join ({{ changed_fact_ids(id_column) }}) as changed
        on {{ relation_alias }}.{{ id_column }} = changed.{{ id_column }}
{%- endmacro %}

{#- The ids the pre_hook deleted, as a query. -#}
{% macro changed_fact_ids(id_column) -%}
    select {{ id_column }} from {{ this.identifier }}__ids
{%- endmacro %}

{#- The customers a customer-grain mart rebuilds: every customer whose profile, orders or
    tickets changed (old and new owner of a changed order or ticket). -#}
{% macro changed_customers() -%}
    select customer_id from {{ this.identifier }}__changed where customer_id is not null
{%- endmacro %}
