{#-
    Fails for every row where `expression` is not true (false or NULL); restrict it to some rows
    with the test's `where` config. dbt has no expression test built in and the dbt hub
    (dbt_utils) is out of reach, so this is the project's own. `column_name` is accepted (and
    unused) so the test can sit under the column whose rule it states.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
