"""Session fixtures shared by every test: one real embedded stack (PostgreSQL + S3) per session.

The stack is started by the same code as `c360-stack up` (harness.stack.stack.up), in a
private state dir with ports picked free at runtime, so concurrent pytest sessions and a running
demo stack never collide. For the whole session the environment names this stack (C360_* and
DBT_* variables), so subprocesses such as dbt, c360-ingest and Airflow tasks reach the same
servers; the previous environment comes back at the end.

    stack_settings   HarnessSettings of the session's stack (servers up)
    pg_conn          autocommit psycopg2 connection to the `warehouse` database
    s3_client        boto3 S3 client with the stack's keys
    clean_stack      function-scoped: empties `staging`, `production` and the bucket, returns HarnessSettings
    clean_stack_module  the same once per module
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from botocore.client import BaseClient
from psycopg2.extensions import connection as Connection

from harness.settings import HarnessSettings
from harness.stack import stack
from harness.stack.isolated import (
    foreign_env_keys,
    make_state_dir,
    reap_orphans,
    remove_state_dir,
    stack_env,
    start_isolated_stack,
)
from harness.stack.postgres import connect
from harness.stack.s3 import client


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[HarnessSettings]:
    """Start a private embedded stack for the session; stop it and delete its state at the end."""
    reap_orphans()  # servers left by a session that was killed before its teardown
    state_dir = make_state_dir("c360-pytest-")
    saved_env = dict(os.environ)
    # A developer's own C360_*/DBT_* variables must not leak into the test stack's settings.
    for key in foreign_env_keys():
        del os.environ[key]
    settings: HarnessSettings | None = None
    try:
        settings = start_isolated_stack(state_dir)
        os.environ.update(stack_env(settings))
        yield settings
    finally:
        if settings is not None:
            stack.down(settings)
        os.environ.clear()
        os.environ.update(saved_env)
        remove_state_dir(state_dir)


@pytest.fixture(scope="session")
def pg_conn(stack_settings: HarnessSettings) -> Iterator[Connection]:
    """Autocommit psycopg2 connection to the session stack's warehouse database."""
    conn = connect(stack_settings)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def s3_client(stack_settings: HarnessSettings) -> BaseClient:
    """boto3 S3 client for the session stack (endpoint, keys, region from its settings)."""
    return client(stack_settings)


@pytest.fixture
def clean_stack(stack_settings: HarnessSettings) -> HarnessSettings:
    """Empty `staging`, `production` and the lake bucket, then hand over the session's HarnessSettings.

    Use it (or call harness.stack.stack.reset) at the start of a module or test that needs a
    known-empty warehouse and lake; databases other than `warehouse` (e.g. Airflow's) are untouched.
    """
    stack.reset(stack_settings)
    return stack_settings


@pytest.fixture(scope="module")
def clean_stack_module(stack_settings: HarnessSettings) -> HarnessSettings:
    """Like `clean_stack`, once per test module (for modules whose tests build on each other)."""
    stack.reset(stack_settings)
    return stack_settings
