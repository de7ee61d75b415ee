"""Which failures are worth retrying, and the backoff between attempts.

Transient: the network or a server hiccup (connection refused/reset/lost, S3 5xx or throttling,
a read that stalls, an object overwritten mid-read, a serialization failure or deadlock).
Permanent: everything that would fail the same way again (bad credentials, missing bucket, a
refused header, a programming error). Each attempt of an object starts from a rolled-back
transaction, so retrying never duplicates rows.

This is the only retry layer: botocore's own retries are switched off (see
``ingest.runner.s3_client``), so "7 attempts" means 7 tries of the operation, to PostgreSQL and to
S3 alike. Reconnecting belongs to the attempt: ``before_retry`` runs inside it, so a server that
is still down when the loader reconnects costs one attempt, not the whole run.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg2
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from ingest.errors import ObjectChangedError, PermanentLoadError

log = logging.getLogger(__name__)
T = TypeVar("T")

_TRANSIENT_S3_CODES = {
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestTimeTooSkewed",
}
# Connection-time messages that no retry will fix.
_PERMANENT_PG_MESSAGES = ("password authentication failed", "does not exist", "no pg_hba.conf entry")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: delay = min(max_delay, base * 2**attempt) * U(0.5, 1).

    The defaults wait 0.5, 1, 2, 4, 8 and 10 s (each scaled by the jitter) between 7 attempts:
    12.75-25.5 s in all, enough for a database or S3 server that restarts (a pod that is
    rescheduled, a failover) and short enough that a server that stays down fails the task soon.
    """

    attempts: int = 7
    base_delay: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2**attempt) * random.uniform(0.5, 1.0)


class RetriesExhaustedError(RuntimeError):
    """A transient error persisted through every attempt; `error` is the last one."""

    def __init__(self, what: str, attempts: int, seconds: float, error: BaseException) -> None:
        self.what = what
        self.attempts = attempts
        self.seconds = seconds
        self.error = error
        super().__init__(f"{what}: gave up after {attempts} attempts over {seconds:.1f} s: {one_line(error)}")


def is_transient(error: BaseException) -> bool:
    """True when the same operation may well succeed if tried again shortly."""
    if isinstance(error, PermanentLoadError):
        return False
    if isinstance(error, ObjectChangedError):
        return True
    if isinstance(error, psycopg2.OperationalError):  # includes lost connections, deadlocks
        return not any(text in str(error) for text in _PERMANENT_PG_MESSAGES)
    if isinstance(error, psycopg2.InterfaceError):  # "connection already closed"
        return True
    if isinstance(
        error,
        EndpointConnectionError
        | ConnectionClosedError
        | ConnectTimeoutError
        | ReadTimeoutError
        | ResponseStreamingError
        | IncompleteReadError
        | Urllib3HTTPError
        | ConnectionError
        | TimeoutError,
    ):
        return True
    if isinstance(error, ClientError):
        response = error.response
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500 or response.get("Error", {}).get("Code") in _TRANSIENT_S3_CODES
    return False


def with_retry(
    operation: Callable[[], T],
    what: str,
    policy: RetryPolicy = RetryPolicy(),
    before_retry: Callable[[], None] | None = None,
) -> T:
    """Run `operation`; on a transient error wait and retry, calling `before_retry` (e.g. drop a
    broken connection) at the start of each retry, inside the attempt.

    A permanent error is raised as it is; a transient one that outlasts every attempt is raised
    as :class:`RetriesExhaustedError` (naming `what`, the attempts and the time spent).
    """
    started = time.monotonic()
    for attempt in range(policy.attempts):
        try:
            if attempt and before_retry is not None:
                before_retry()
            return operation()
        except Exception as error:
            if not is_transient(error):
                raise
            if attempt == policy.attempts - 1:
                spent = time.monotonic() - started
                raise RetriesExhaustedError(what, policy.attempts, spent, error) from error
            delay = policy.delay(attempt)
            log.warning(
                "%s: transient error (attempt %d/%d), retrying in %.1fs: %s",
                what,
                attempt + 1,
                policy.attempts,
                delay,
                one_line(error),
            )
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop either returns or raises


def one_line(error: BaseException) -> str:
    """`Type: message` on one line (psycopg2's messages span several)."""
    return " ".join(f"{type(error).__name__}: {error}".split())
