{#-
    Data tests that scale with the day (docs/data-model.md, "Tests on a daily run").

    On a daily (incremental) run, a generic test on an incremental model reads only the rows that
    this dbt invocation rewrote, and a test on a source only the rows of the loads that staging has
    not taken in yet. Rows nobody touched were tested on the day they were written and have not
    changed since. A full refresh (`--full-refresh`: the DAG's weekly run, or a run triggered with
    `full_refresh`), and a model's first build, test every row. A singular test that compares
    rows takes part with `day_scope(model, key)`; the ones that compare whole-table totals read
    everything.

    How: dbt builds every generic test's input with `get_where_subquery`; this project's version
    adds the day's filter to the test's own `where`. A model takes part by naming its key in
    `meta.rows_key`; its hooks log the keys each run rewrites in `dbt_changed_ids` and the run
    itself in `dbt_model_builds` (macros/incremental_staging.sql, incremental_marts.sql), both
    under the run's `invocation_id`, which the tests of a `dbt build` share with its models.
-#}

{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- if config.get('where') -%}
        {%- do filters.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- set day_filter = rows_of_this_run(relation) -%}
    {%- if day_filter -%}
        {%- do filters.append(day_filter) -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- `key in (the keys this run rewrote in model_name)`, or none when the run built the model in
    full (or did not build it): then every row is this run's. For singular tests too, through
    `day_scope`. Decided here, not in the test's SQL: `full or key in (...)` would make PostgreSQL
    scan the whole table; `key in (...)` alone is an index lookup per rewritten key. -#}
{% macro rewritten_by_this_run(model_name, key) -%}
    {%- if flags.FULL_REFRESH or not execute -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set build -%}
        select full_refresh from {{ ledger('dbt_model_builds') }}
        where model = '{{ model_name }}' and batch = '{{ invocation_id }}'
    {%- endset -%}
    {%- set builds = run_query(build) -%}
    {%- if builds.rows | length == 0 or builds.rows[0][0] -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set predicate -%}
        {{ key }} in (
            select changed.id
            from {{ ledger('dbt_changed_ids') }} as changed
            where changed.model = '{{ model_name }}' and changed.batch = '{{ invocation_id }}'
        )
    {%- endset -%}
    {%- do return(predicate) -%}
{%- endmacro %}

{#- A singular test's filter: `where {{ day_scope('customer_360', 'customer_id') }}`. -#}
{% macro day_scope(model_name, key) -%}
    {{ rewritten_by_this_run(model_name, key) or 'true' }}
{%- endmacro %}

{#- The predicate that limits the tested relation to this run's rows, or none (test them all). -#}
{% macro rows_of_this_run(relation) -%}
    {%- if flags.FULL_REFRESH or not execute -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set parents = model.depends_on.nodes -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if tested is not none -%}
        {%- set key = tested.config.meta.get('rows_key') -%}
        {%- if not key -%}
            {%- do return(none) -%}
        {%- endif -%}
        {%- do return(rewritten_by_this_run(tested.name, key)) -%}
    {%- elif parents and parents[0].startswith('source.') -%}
        {#- A source's rows of this run: those of the loads no staging model has taken in. -#}
        {%- set predicate -%}
            (_source_key, _loaded_at) in (
                select new_load.source_key, new_load.loaded_at
                from {{ relation.schema }}._loads as new_load
                where not exists (
                    select from {{ ledger('dbt_processed_loads') }} as processed
                    where
                        processed.source_key = new_load.source_key
                        and processed.loaded_at = new_load.loaded_at
                )
            )
        {%- endset -%}
        {%- do return(predicate) -%}
    {%- endif -%}
    {%- do return(none) -%}
{%- endmacro %}
