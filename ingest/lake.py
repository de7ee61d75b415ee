"""The lake side of a load: which objects a source has, and their bytes as a stream.

Reads are pinned to the ETag seen at listing time (``IfMatch``), so the ETag recorded in
``staging._loads`` always belongs to the bytes that were loaded: an object overwritten mid-load
fails the read with 412 and is retried from scratch (:class:`ingest.errors.ObjectChangedError`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from customer360.contract import Source
from ingest.errors import ObjectChangedError, ObjectVanishedError

READ_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class LakeObject:
    """One raw CSV object as listed: key, ETag (quotes stripped) and size in bytes."""

    key: str
    etag: str
    size: int


def list_source_objects(s3: Any, bucket: str, source: Source) -> list[LakeObject]:
    """Every `.csv` object under `raw/<source>/`, in key order (so days load oldest first)."""
    objects = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=source.prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".csv"):
                objects.append(LakeObject(item["Key"], item["ETag"].strip('"'), int(item["Size"])))
    return sorted(objects, key=lambda o: o.key)


def head_object(s3: Any, bucket: str, key: str) -> LakeObject:
    """The object as it is now (after it changed under a load), or ObjectVanishedError."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
            raise ObjectVanishedError(f"{key} was deleted after it was listed") from error
        raise
    return LakeObject(key, head["ETag"].strip('"'), int(head["ContentLength"]))


def stream_object(
    s3: Any, bucket: str, obj: LakeObject, chunk_bytes: int = READ_CHUNK_BYTES
) -> Iterator[bytes]:
    """The object's bytes in chunks, read while they are consumed (never the whole object)."""
    try:
        response = s3.get_object(Bucket=bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in {"PreconditionFailed", "412"}:
            raise ObjectChangedError(f"{obj.key} changed since it was listed (ETag {obj.etag})") from error
        if code in {"NoSuchKey", "404"}:
            raise ObjectVanishedError(f"{obj.key} was deleted after it was listed") from error
        raise
    body = response["Body"]
    try:
        while chunk := body.read(chunk_bytes):
            yield chunk
    finally:
        body.close()
