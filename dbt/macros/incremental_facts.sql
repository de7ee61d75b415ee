{#-
    How the incremental facts stay equal to a full refresh, whatever happened in staging.

    A fact row copies one version of one record: the record's id plus that version's updated_at
    and _loaded_at (the load that wrote it; all rows of one object load share it) say which. Before
    the merge, a pre_hook deletes every fact row that a full refresh would no longer build as it is:
      * its record's current version is another one: a newer version arrived, or the loader
        replaced an object and dropped the newest version, so an older one is current again;
      * its record is no longer valid, or no longer there at all (a replaced object without it);
      * its customer assignment changed: the user arrived (an orphan of yesterday belongs to its
        customer now) or is gone (the user's object was replaced without them).
    The model then selects only the records the fact lacks -- exactly the deleted and the new
    ones -- and the merge inserts them. No high-water mark: nothing depends on when a load
    committed, and a replaced object needs no manual full refresh.
-#}

{% macro delete_stale_facts(id_column, staging_relation) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as fact
        where
            not exists (
                select
                from {{ staging_relation }} as current_version
                where
                    current_version.{{ id_column }} = fact.{{ id_column }}
                    and current_version.is_valid
                    and current_version.updated_at = fact.updated_at
                    and current_version._loaded_at = fact._loaded_at
            )
            or (fact.customer_id = {{ var('unknown_customer_id') }}) = exists (
                select
                from {{ ref('stg_user_db__users') }} as customer
                where customer.customer_id = fact.source_customer_id
            )
    {%- endif -%}
{%- endmacro %}

{% macro missing_from_fact(id_column, alias) -%}
    not exists (
        select
        from {{ this }} as fact
        where fact.{{ id_column }} = {{ alias }}.{{ id_column }}
    )
{%- endmacro %}
