{#-
    Refresh the planner statistics of the loader's tables before dbt builds on them, when a load
    came after their last ANALYZE. A batch that was just loaded has none yet (autovacuum comes
    later), and a plan made without them can nest loops over millions of rows: a 100k-user build
    took many minutes instead of seconds. The loader analyzes after loading, so on a normal day
    this finds nothing to do and costs one catalog query per source. ANALYZE needs ownership (or
    PostgreSQL's MAINTAIN privilege) on the tables; without it PostgreSQL only warns and skips.
    Runs for the commands that build (build, run, snapshot), not for parse/docs/freshness.
-#}
{% macro analyze_sources() %}
    {%- if execute and flags.WHICH in ('build', 'run', 'snapshot') -%}
        {%- for source_node in graph.sources.values() -%}
            {%- set relation = source(source_node.source_name, source_node.name) %}
            do $analyze$ begin
                if exists (
                    select from {{ relation.schema }}._loads as load
                    where
                        load.source = '{{ relation.identifier }}'
                        and load.loaded_at > coalesce(
                            (
                                select greatest(last_analyze, last_autoanalyze)
                                from pg_stat_all_tables
                                where relid = '{{ relation }}'::regclass
                            ),
                            '-infinity'
                        )
                ) then
                    execute 'analyze {{ relation }}';
                end if;
            end $analyze$;
        {% endfor -%}
    {%- endif -%}
{% endmacro %}
