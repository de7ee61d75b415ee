"""Where objects go: a local folder or an S3 bucket, written as a stream of bytes.

The target names the root of the raw layout (`s3://data-lake/raw` or a folder): an object with
contract key `raw/<source>/dt=.../<file>` lands at `<target>/<source>/dt=.../<file>`. Neither sink
leaves a partial object behind: a local file is renamed into place on commit, an S3 multipart
upload is completed on commit and aborted on failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from customer360.contract import RAW_PREFIX

S3_PART_SIZE = 8 * 1024 * 1024  # fixed, so the multipart ETag of the same bytes is the same too


class TargetError(ValueError):
    """The target cannot be used (bad URI, missing bucket, unreachable endpoint)."""


class ObjectSink(Protocol):
    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class Target(Protocol):
    def location(self, key: str) -> str: ...
    def open(self, key: str) -> ObjectSink: ...
    def has_objects(self, prefix: str) -> bool: ...


def _relative(key: str) -> str:
    """`raw/users/dt=.../users-0001.csv` -> `users/dt=.../users-0001.csv`."""
    prefix = RAW_PREFIX + "/"
    if not key.startswith(prefix):
        raise ValueError(f"object key {key!r} is not under {prefix!r}")
    return key[len(prefix) :]


# --- local folder --------------------------------------------------------------------------------
class LocalSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.partial.open("wb")

    def write(self, data: bytes) -> None:
        self.file.write(data)

    def commit(self) -> None:
        self.file.close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        self.file.close()
        self.partial.unlink(missing_ok=True)


class LocalTarget:
    def __init__(self, root: Path) -> None:
        if root.exists() and not root.is_dir():
            raise TargetError(f"target {root} exists and is not a folder")
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / _relative(key)

    def location(self, key: str) -> str:
        return str(self.path(key))

    def open(self, key: str) -> ObjectSink:
        return LocalSink(self.path(key))

    def has_objects(self, prefix: str) -> bool:
        """True when a committed object lies under the contract prefix (`raw/<source>/dt=.../`)."""
        folder = self.path(prefix)
        return folder.is_dir() and any(path.suffix == ".csv" for path in folder.iterdir())


# --- S3 ------------------------------------------------------------------------------------------
class S3Sink:
    """Streams one object: a single PUT when it fits one part, else a multipart upload."""

    def __init__(self, client: Any, bucket: str, key: str, part_size: int = S3_PART_SIZE) -> None:
        self.client, self.bucket, self.key, self.part_size = client, bucket, key, part_size
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= self.part_size:
            self._upload_part(bytes(self.buffer[: self.part_size]))
            del self.buffer[: self.part_size]

    def _upload_part(self, body: bytes) -> None:
        if self.upload_id is None:
            response = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType="text/csv"
            )
            self.upload_id = response["UploadId"]
        number = len(self.parts) + 1
        response = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def commit(self) -> None:
        if self.upload_id is None:
            self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), ContentType="text/csv"
            )
        else:
            if self.buffer:
                self._upload_part(bytes(self.buffer))
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        self.buffer = bytearray()

    def abort(self) -> None:
        if self.upload_id is not None:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        self.buffer = bytearray()


class S3Target:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def object_key(self, key: str) -> str:
        return f"{self.prefix}/{_relative(key)}" if self.prefix else _relative(key)

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def open(self, key: str) -> ObjectSink:
        return S3Sink(self.client, self.bucket, self.object_key(key))

    def has_objects(self, prefix: str) -> bool:
        """True when an object lies under the contract prefix (multipart uploads in flight do not count)."""
        response = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.object_key(prefix), MaxKeys=1)
        return response.get("KeyCount", 0) > 0

    def check_bucket(self) -> None:
        """Fail early, with the endpoint in the message, when the bucket is not there."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            endpoint = self.client.meta.endpoint_url
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise TargetError(f"bucket {self.bucket!r} does not exist at {endpoint}") from None
            raise TargetError(f"cannot use bucket {self.bucket!r} at {endpoint}: {error}") from None
        except BotoCoreError as error:
            raise TargetError(f"cannot reach S3 at {self.client.meta.endpoint_url}: {error}") from None


def open_target(uri: str, s3_client_factory: Any = None) -> LocalTarget | S3Target:
    """`s3://bucket[/prefix]` (prefix defaults to `raw`) or a local folder (`file://` allowed)."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise TargetError(f"target {uri!r} names no bucket; expected s3://<bucket>/{RAW_PREFIX}")
        if s3_client_factory is None:
            raise TargetError("an S3 target needs an S3 client")
        target = S3Target(s3_client_factory(), parsed.netloc, parsed.path.strip("/") or RAW_PREFIX)
        target.check_bucket()
        return target
    if parsed.scheme == "file":
        return LocalTarget(Path(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return LocalTarget(Path(uri))
    raise TargetError(
        f"unknown target scheme {parsed.scheme!r} in {uri!r}; use s3://<bucket>/raw or a folder"
    )
