{#- Render a list of strings (e.g. a contract enum from vars) as a quoted SQL list: ('a', 'b'). -#}
{% macro sql_list(values) -%}
    ({%- for value in values -%}'{{ value }}'{%- if not loop.last %}, {% endif -%}{%- endfor -%})
{%- endmacro %}
