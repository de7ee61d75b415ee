{#-
    How the incremental facts find their work. A fact row must be (re)written when
      * its source record has a new current version: that version's _loaded_at is newer than the
        newest one already in the fact (minus a lookback, so a load committing during the last
        run is not missed; re-merging a row is harmless), or
      * its customer arrived or changed since then: an orphan order of yesterday belongs to a
        real customer once the user shows up, and must leave the "unknown customer" member.
    Rows whose current version became invalid are deleted before the merge (a MERGE of the valid
    rows alone could never remove them). Together this keeps incremental == --full-refresh.
-#}

{% macro fact_high_water_mark() -%}
    (
        select
            coalesce(max(_loaded_at), '-infinity'::timestamptz)
            - interval '{{ var("incremental_lookback_minutes") }} minutes'
        from {{ this }}
    )
{%- endmacro %}

{% macro fact_rows_to_refresh(loaded_at_column='_loaded_at', customer_column='source_customer_id') -%}
    {{ loaded_at_column }} > {{ fact_high_water_mark() }}
    or {{ customer_column }} in (
        select customer_id
        from {{ ref('stg_user_db__users') }}
        where _loaded_at > {{ fact_high_water_mark() }}
    )
{%- endmacro %}

{% macro delete_facts_turned_invalid(id_column, staging_relation) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ id_column }} in (
            select {{ id_column }}
            from {{ staging_relation }}
            where not is_valid
        )
    {%- endif -%}
{%- endmacro %}
