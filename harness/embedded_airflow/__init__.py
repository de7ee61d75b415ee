"""Airflow on this machine (the embedded runtime): its configuration, CLI calls and services.

``env`` builds every ``AIRFLOW__*`` variable in one place; ``cli`` runs Airflow commands with it
(database migration, one DAG run for the demo); ``services`` starts and stops the UI processes.
"""
