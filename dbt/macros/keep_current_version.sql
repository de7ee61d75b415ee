{#-
    The one implementation of the "current version" rule (docs/data-model.md, Rules), shared by every staging model:
    per id keep the row with the greatest updated_at; on a tie the row loaded last (_loaded_at,
    then _line_number, then _source_key so the choice is deterministic). Exact duplicates are
    rows with equal values, so whichever of them is kept, the id counts once.
    DISTINCT ON is PostgreSQL's single-pass "first row per group" (it has no QUALIFY).
-#}
{% macro keep_current_version(relation, id_column) -%}
    select distinct on ({{ id_column }}) *
    from {{ relation }}
    order by
        {{ id_column }},
        updated_at desc nulls last,
        _loaded_at desc nulls last,
        _line_number desc nulls last,
        _source_key desc nulls last
{%- endmacro %}
