"""Which failures are worth retrying, and the backoff between attempts.

Transient: the network or a server hiccup (connection refused/reset/lost, S3 5xx or throttling,
a read that stalls, an object overwritten mid-read, a serialization failure or deadlock).
Permanent: everything that would fail the same way again (bad credentials, missing bucket, a
refused header, a programming error). Each attempt of an object starts from a rolled-back
transaction, so retrying never duplicates rows.
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
    """Exponential backoff with jitter: delay = min(max_delay, base * 2**attempt) * U(0.5, 1)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2**attempt) * random.uniform(0.5, 1.0)


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
    """Run `operation`; on a transient error wait, call `before_retry` (e.g. reconnect), retry."""
    for attempt in range(policy.attempts):
        try:
            return operation()
        except Exception as error:
            if not is_transient(error) or attempt == policy.attempts - 1:
                raise
            delay = policy.delay(attempt)
            log.warning(
                "%s: transient error (attempt %d/%d), retrying in %.1fs: %s",
                what,
                attempt + 1,
                policy.attempts,
                delay,
                _one_line(error),
            )
            time.sleep(delay)
            if before_retry is not None:
                before_retry()
    raise AssertionError("unreachable")  # the loop either returns or raises


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())
