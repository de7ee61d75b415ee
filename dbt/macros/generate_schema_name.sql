{#-
    Everything dbt builds lives in exactly one schema, `production` (the target's schema).
    dbt's default would append a custom schema to the target's ("production_marts"); here the
    loader's role owns `staging` and dbt's role may write only `production`, so a model, seed or
    snapshot asking for another schema is a configuration error we refuse loudly instead of
    writing elsewhere. Tests' audit schema (for --store-failures) folds into `production` too.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is not none
        and custom_schema_name | trim != target.schema
        and node.resource_type in ('model', 'seed', 'snapshot') -%}
        {{ exceptions.raise_compiler_error(
            "node " ~ node.unique_id ~ " asks for schema '" ~ custom_schema_name
            ~ "', but everything dbt builds lives in '" ~ target.schema ~ "'"
        ) }}
    {%- endif -%}
    {{ target.schema }}
{%- endmacro %}
