"""Loader: lake objects into the PostgreSQL `staging` schema (DESIGN.md section 5)."""
