{#-
    Refresh the planner statistics of the loader's tables before dbt builds on them.
    A batch that was just loaded has none yet (autovacuum comes later), and the staging views'
    DISTINCT ON then looks like ~200 rows to the planner: it nests loops over two views and a
    100k-user build takes many minutes instead of seconds. ANALYZE samples a bounded number of
    rows, so this costs about a second whatever the size. It needs ownership (or PostgreSQL's
    MAINTAIN privilege) on the tables; without it PostgreSQL only warns and skips -- the loader,
    which owns them, analyzes after loading too.
    Runs for the commands that build (build, run, snapshot), not for parse/docs/freshness.
-#}
{% macro analyze_sources() %}
    {%- if execute and flags.WHICH in ('build', 'run', 'snapshot') -%}
        {%- for source_node in graph.sources.values() -%}
            analyze {{ source(source_node.source_name, source_node.name) }};
        {% endfor -%}
    {%- endif -%}
{% endmacro %}
