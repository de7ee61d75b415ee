"""Faker generator of the three raw sources (docs/data-contract.md).

Modules, one job each: `config` (parameters, dirt catalogue), `world` (days, volumes, ids),
`rng` (keyed RNGs), `pools` (Faker pools), `users`/`orders`/`tickets` (row factories),
`lifecycle` (status timelines), `dirt` (injection), `batches` (CSV objects), `sinks` (local/S3),
`summary` (the --summary JSON), `generate` (the core), `cli` (`c360-datagen`).
"""
