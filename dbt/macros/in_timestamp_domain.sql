{#-
    True when `column` lies in the contract's timestamp domain, [timestamp_min, timestamp_max)
    UTC (customer360/contract.py; tests/dbt/test_dbt_project.py keeps the vars in step). The
    loader refuses anything else; staging models use this to treat such values as invalid all the
    same (rows loaded before the rule, or written by something other than the loader), so that
    `infinity` or a year-1 sentinel can never reach dim_date's calendar or a fact. NULL stays NULL.
-#}
{% macro in_timestamp_domain(column) -%}
    ({{ column }} >= '{{ var("timestamp_min") }}'::timestamptz
    and {{ column }} < '{{ var("timestamp_max") }}'::timestamptz)
{%- endmacro %}
