"""Where the server keeps assistants, threads, runs and run events: one protocol, one
implementation per database (SQLite here; Postgres in :mod:`actorgraph.server.storage.postgres`,
imported from there: it needs the ``postgres`` extra)."""

from actorgraph.server.storage._base import Claim, Conflict, Gone, Renewal, Storage, Unavailable, matches
from actorgraph.server.storage._faults import is_unavailable
from actorgraph.server.storage.sqlite import SqliteStorage

__all__ = (
    "Claim", "Conflict", "Gone", "Renewal", "SqliteStorage", "Storage", "Unavailable", "is_unavailable", "matches",
)
