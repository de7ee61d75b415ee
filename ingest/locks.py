"""Advisory-lock keys shared by every loader process.

PostgreSQL advisory locks are the loader's only coordination: they live in the server, so they
work the same for local subprocesses and for pods, and they vanish with the session that holds
them (a loader killed with SIGKILL cannot leave a stale lock behind). Keys use the two-integer
form ``(namespace, object)`` so they cannot collide with single-bigint locks taken by other tools.
"""

from __future__ import annotations

import zlib

# "C360" read as hex digits; the namespace of every advisory lock this project takes.
LOCK_NAMESPACE = 0xC360

# Object id of the lock that serialises schema migrations.
DDL_LOCK_OBJECT = 0


def object_lock_object(source_key: str) -> int:
    """Stable 31-bit object id of the lock one lake object is loaded under (same in every process).

    Two keys that share a CRC only serialise each other; they never load twice or deadlock,
    because a loader holds at most one object lock at a time.
    """
    return zlib.crc32(f"object:{source_key}".encode()) & 0x7FFFFFFF or 1
