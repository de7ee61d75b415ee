"""The one line a person can act on when a source cannot be loaded at all.

`c360-ingest load` ends every failed run with such a line (and Airflow repeats a task's last
line in its failure message), so it names the server or setting at fault, what happened and
what to check, instead of a driver's multi-line message or a traceback. A failure that fits
none of the known kinds is a bug: :func:`explain` returns None and the CLI keeps the traceback.
"""

from __future__ import annotations

import psycopg2
from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from customer360.settings import Settings
from ingest.ddl import SchemaDriftError
from ingest.retry import RetriesExhaustedError, one_line

# S3 error codes that mean "these keys are not accepted", and where to fix them.
_S3_KEY_CODES = {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "403"}
_S3_KEYS_HINT = "check C360_S3_ACCESS_KEY_ID and C360_S3_SECRET_ACCESS_KEY"


def postgres_name(settings: Settings) -> str:
    return f"PostgreSQL at {settings.pg_host}:{settings.pg_port} (database {settings.pg_database})"


def s3_name(settings: Settings) -> str:
    return f"S3 at {settings.s3_endpoint_url} (bucket {settings.s3_bucket})"


def explain(error: BaseException, settings: Settings) -> str | None:
    """`<server>: <what happened>; <what to check>` for a known failure, else None."""
    if isinstance(error, RetriesExhaustedError):
        server, hint = _server_of(error.error, settings)
        return (
            f"{server}: still failing after {error.attempts} attempts over {error.seconds:.1f} s "
            f"(last error: {one_line(error.error)}); {hint}"
        )
    if isinstance(error, SchemaDriftError):
        return f"{postgres_name(settings)}: {' '.join(str(error).split())}"
    if isinstance(error, psycopg2.Error):
        message = one_line(error)
        if "password authentication failed" in message:
            hint = "check C360_PG_USER and C360_PG_PASSWORD"
        elif "does not exist" in message:
            hint = "check C360_PG_DATABASE and that the role may use it"
        else:
            hint = "see the PostgreSQL server's log"
        return f"{postgres_name(settings)}: {message}; {hint}"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in _S3_KEY_CODES:
            hint = _S3_KEYS_HINT
        elif code in {"NoSuchBucket", "404"}:
            hint = "check C360_S3_BUCKET"
        else:
            hint = "see the S3 server's log"
        return f"{s3_name(settings)}: {one_line(error)}; {hint}"
    if isinstance(error, BotoCoreError | Urllib3HTTPError):
        return f"{s3_name(settings)}: {one_line(error)}; check C360_S3_ENDPOINT_URL"
    return None


def _server_of(error: BaseException, settings: Settings) -> tuple[str, str]:
    """Which server a transient error came from, and what to check when it stays that way."""
    if isinstance(error, psycopg2.Error):
        return postgres_name(settings), "check that it is up and reachable (C360_PG_HOST, C360_PG_PORT)"
    return s3_name(settings), "check that it is up and reachable (C360_S3_ENDPOINT_URL)"
