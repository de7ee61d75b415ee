"""Exceptions of the loader, split by what the runner should do about them.

`PermanentLoadError` means "retrying cannot help" (a bad header, a broken contract): the object is
refused, the run goes on with the next object and ends with a non-zero exit. Everything else that
the retry policy recognises as transient (connection lost, S3 5xx, an object replaced mid-read) is
retried with backoff; see :mod:`ingest.retry`.
"""

from __future__ import annotations


class PermanentLoadError(RuntimeError):
    """The object cannot be loaded as it is; retrying will not change that."""


class HeaderMismatchError(PermanentLoadError):
    """The object's header row differs from the contract; the whole object is refused."""


class LoadConsistencyError(PermanentLoadError):
    """loaded + rejected != data rows: a loader bug; the object's transaction is rolled back."""


class ObjectChangedError(RuntimeError):
    """The object was replaced while it was being read (its ETag changed); retry from scratch."""


class ObjectVanishedError(RuntimeError):
    """The object was deleted between listing and reading; there is nothing left to load."""
