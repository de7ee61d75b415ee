"""Loader: lake objects into the PostgreSQL `staging` schema (docs/loader.md)."""
