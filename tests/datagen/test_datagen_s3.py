"""The S3 target writes the same bytes as a local folder, at the contract's keys, in the real S3 server."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from conftest import generate_into, run_cli
from contract_check import tree_digest

from customer360.contract import RAW_PREFIX
from customer360.settings import Settings
from datagen.sinks import S3Sink, S3Target, TargetError, open_target

pytestmark = pytest.mark.integration


def test_generate_to_s3_lands_the_objects(clean_stack: Settings, s3_client, tmp_path: Path) -> None:
    bucket = clean_stack.s3_bucket
    summary = tmp_path / "summary.json"
    result = run_cli(
        "generate",
        "--users",
        "300",
        "--days",
        "2",
        "--target",
        f"s3://{bucket}/{RAW_PREFIX}",
        "--summary",
        str(summary),
    )
    assert result.exit_code == 0, result.output
    local = tree_digest(generate_into(tmp_path / "local", "--users", "300", "--days", "2").root)
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix=f"{RAW_PREFIX}/")["Contents"]
    keys = sorted(item["Key"] for item in listed)
    assert keys == sorted(f"{RAW_PREFIX}/{name}" for name in local)
    for item in listed:
        body = s3_client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        assert body == local[item["Key"].removeprefix(f"{RAW_PREFIX}/")]
        # Small objects go up in one PUT: the ETag is the MD5 the summary reports.
        assert item["ETag"].strip('"') == hashlib.md5(body).hexdigest()


def test_default_target_is_the_settings_bucket(clean_stack: Settings, s3_client) -> None:
    """No --target: s3://$C360_S3_BUCKET/raw with the endpoint and keys from the environment."""
    assert os.environ["C360_S3_BUCKET"] == clean_stack.s3_bucket
    result = run_cli("generate", "--users", "20")
    assert result.exit_code == 0, result.output
    listed = s3_client.list_objects_v2(Bucket=clean_stack.s3_bucket, Prefix=f"{RAW_PREFIX}/")["Contents"]
    assert len(listed) == 3


def test_large_objects_use_a_fixed_part_size_multipart_upload(clean_stack: Settings, s3_client) -> None:
    bucket, key = clean_stack.s3_bucket, f"{RAW_PREFIX}/multipart-check.csv"
    part = 5 * 1024 * 1024  # S3's smallest part size
    data = b"".join(f"{i},row\n".encode() for i in range(1_600_000))  # ~ 17 MB -> 4 parts
    etags = []
    for _ in range(2):
        sink = S3Sink(s3_client, bucket, key, part_size=part)
        for start in range(0, len(data), 1_000_003):  # writes that do not line up with parts
            sink.write(data[start : start + 1_000_003])
        sink.commit()
        etags.append(s3_client.head_object(Bucket=bucket, Key=key)["ETag"])
        assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    # The multipart ETag is md5(concatenated part md5s)-<parts>: equal only if the parts are.
    parts = [data[start : start + part] for start in range(0, len(data), part)]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert etags[0] == etags[1] == f'"{expected}-{len(parts)}"'
    assert len(parts) == 4


def test_aborted_upload_leaves_no_object(clean_stack: Settings, s3_client) -> None:
    bucket, key = clean_stack.s3_bucket, f"{RAW_PREFIX}/aborted.csv"
    sink = S3Sink(s3_client, bucket, key, part_size=5 * 1024 * 1024)
    sink.write(b"x" * (6 * 1024 * 1024))
    sink.abort()
    assert "Contents" not in s3_client.list_objects_v2(Bucket=bucket, Prefix=key)


def test_missing_bucket_is_a_clear_error(clean_stack: Settings, s3_client) -> None:
    with pytest.raises(TargetError, match="bucket 'no-such-bucket' does not exist"):
        open_target("s3://no-such-bucket/raw", lambda: s3_client)
    result = run_cli("generate", "--users", "10", "--target", "s3://no-such-bucket/raw")
    assert result.exit_code == 2 and "does not exist" in result.output


def test_s3_target_maps_contract_keys_under_its_prefix(s3_client) -> None:
    target = S3Target(s3_client, "data-lake", "raw")
    assert target.location("raw/users/dt=2026-11-01/users-0001.csv") == (
        "s3://data-lake/raw/users/dt=2026-11-01/users-0001.csv"
    )
