-- The warehouse's privilege model: login roles, Airflow's metadata database, the `staging` and
-- `production` schemas and who may do what in them, plus the warehouse's planner costs. The one
-- copy: the chart's postgres init script runs it on the first start of an empty data directory,
-- the embedded stack when it creates the warehouse (harness/stack/postgres.py), so a permission
-- bug shows up in `make test` too.
--
-- Run by psql as a superuser connected to the warehouse database, with variables
--   loader_role, dbt_role, analyst_role, airflow_role, airflow_db, warehouse_db  (-v name=value)
-- and the passwords read from the environment (never on a command line or in a manifest):
\getenv loader_password C360_LOADER_PASSWORD
\getenv dbt_password C360_DBT_PASSWORD
\getenv analyst_password C360_ANALYST_PASSWORD
\getenv airflow_password C360_AIRFLOW_PASSWORD
\set ON_ERROR_STOP on

-- Login roles; each gets only what its job needs.
CREATE ROLE :"loader_role" LOGIN PASSWORD :'loader_password';
CREATE ROLE :"dbt_role" LOGIN PASSWORD :'dbt_password';
CREATE ROLE :"analyst_role" LOGIN PASSWORD :'analyst_password';
CREATE ROLE :"airflow_role" LOGIN PASSWORD :'airflow_password';

-- Airflow's metadata: its own database, reachable by its own role only.
CREATE DATABASE :"airflow_db" OWNER :"airflow_role";
REVOKE ALL ON DATABASE :"airflow_db" FROM PUBLIC;

-- The warehouse: nobody but the three roles may connect; nobody writes `public`.
REVOKE ALL ON DATABASE :"warehouse_db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"warehouse_db" TO :"loader_role", :"dbt_role", :"analyst_role";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- The planner's cost of a random page read: PostgreSQL's default (4) assumes spinning disks. On
-- SSDs, or with the tables in memory, a daily run's few percent of the keys are cheaper to fetch
-- by index than by reading the whole table, and with the default the planner hashed whole tables
-- instead (1.1 is the usual SSD value; a day's dbt steps at 1M users ran 2 s faster, docs/data-model.md).
ALTER DATABASE :"warehouse_db" SET random_page_cost = 1.1;

-- staging: written by the loader (it owns the schema and creates the tables), read by dbt.
CREATE SCHEMA staging AUTHORIZATION :"loader_role";
GRANT USAGE ON SCHEMA staging TO :"dbt_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"loader_role" IN SCHEMA staging GRANT SELECT ON TABLES TO :"dbt_role";

-- production: written by dbt (its owner; dbt builds nothing outside it, snapshots included),
-- read by analysts. Views there run with dbt's rights, so analysts need nothing on staging.
CREATE SCHEMA production AUTHORIZATION :"dbt_role";
GRANT USAGE ON SCHEMA production TO :"analyst_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"dbt_role" IN SCHEMA production GRANT SELECT ON TABLES TO :"analyst_role";
