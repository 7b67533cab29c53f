"""The server's tables in Postgres (``srv_*``), as versioned migrations, and the
connection plumbing of :class:`~actorgraph.server.storage.postgres.PostgresStorage`: which
failures mean the database is out of reach.

Each record is kept whole as msgspec JSON (``doc``, bytea: it reads back exactly as it
was written) beside the columns queries filter and sort by; what searches filter by
containment (metadata, a thread's values) is a JSONB copy.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg

__all__ = ("LOCK_SETUP", "MIGRATIONS", "MIGRATIONS_TABLE", "is_connection_failure", "jsonb")

MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS srv_migrations (v INTEGER PRIMARY KEY)"
# one setup at a time across processes: CREATE TABLE IF NOT EXISTS races on the catalog
LOCK_SETUP = "SELECT pg_advisory_xact_lock(hashtextextended('actorgraph.server.setup', 0))"

MIGRATIONS: tuple[str, ...] = (
    # append only: each is applied once, in order, by setup(); none drops or rewrites data
    """CREATE TABLE IF NOT EXISTS srv_assistants (
        assistant_id TEXT PRIMARY KEY, graph_id TEXT NOT NULL, name TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, metadata JSONB NOT NULL,
        doc BYTEA NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS srv_assistant_versions (
        assistant_id TEXT NOT NULL, version INTEGER NOT NULL, metadata JSONB NOT NULL, doc BYTEA NOT NULL,
        PRIMARY KEY (assistant_id, version))""",
    """CREATE TABLE IF NOT EXISTS srv_threads (
        thread_id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL, metadata JSONB NOT NULL, vals JSONB, doc BYTEA NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS srv_runs (
        seq BIGSERIAL PRIMARY KEY, run_id TEXT UNIQUE NOT NULL, thread_id TEXT NOT NULL,
        status TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, available_at DOUBLE PRECISION NOT NULL,
        lease_owner TEXT, lease_until DOUBLE PRECISION, cancel TEXT, doc BYTEA NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS srv_runs_thread ON srv_runs (thread_id, status)",
    "CREATE INDEX IF NOT EXISTS srv_runs_pending ON srv_runs (available_at) WHERE status = 'pending'",
    "CREATE INDEX IF NOT EXISTS srv_runs_running ON srv_runs (lease_until) WHERE status = 'running'",
    """CREATE TABLE IF NOT EXISTS srv_run_events (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, data BYTEA NOT NULL,
        PRIMARY KEY (run_id, seq))""",
    """CREATE TABLE IF NOT EXISTS srv_crons (
        cron_id TEXT PRIMARY KEY, assistant_id TEXT NOT NULL, thread_id TEXT, enabled BOOLEAN NOT NULL,
        next_run DOUBLE PRECISION, end_ts DOUBLE PRECISION, created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL, metadata JSONB NOT NULL, doc BYTEA NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS srv_crons_due ON srv_crons (next_run) WHERE enabled",
    """CREATE TABLE IF NOT EXISTS srv_thread_ttl (
        thread_id TEXT PRIMARY KEY, strategy TEXT NOT NULL, ttl_minutes DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION)""",
    "CREATE INDEX IF NOT EXISTS srv_thread_ttl_expiry ON srv_thread_ttl (expires_at)",
    "CREATE INDEX IF NOT EXISTS srv_threads_metadata ON srv_threads USING gin (metadata jsonb_path_ops)",
    "CREATE INDEX IF NOT EXISTS srv_assistants_metadata ON srv_assistants USING gin (metadata jsonb_path_ops)",
)

# connection exception (08), the server shutting down or starting (57P0x), no free slot
_UNREACHABLE = ("57P01", "57P02", "57P03", "53300")


def is_connection_failure(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is out of reach (not a bad statement, a
    conflict or a deadlock): refused, timed out, shut down, or the connection died."""
    if isinstance(exc, psycopg.InterfaceError):  # a closed connection
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    # no SQLSTATE: raised by the client (connect failed, connection lost, pool timeout)
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _UNREACHABLE


def jsonb(value: Any) -> str | None:
    """The JSONB copy of a record's field that searches filter (a filter goes through it
    too). JSONB has no NUL character: it becomes U+FFFD in both, so ``@>`` still finds
    every match (``matches`` then decides, on the record itself)."""
    return None if value is None else msgspec.json.encode(value).decode().replace("\\u0000", "\\ufffd")
