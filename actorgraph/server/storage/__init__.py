"""Where the server keeps assistants, threads, runs and run events: one protocol, one
implementation per database (SQLite now)."""

from actorgraph.server.storage._base import Claim, Conflict, Gone, Storage, Unavailable, matches
from actorgraph.server.storage._faults import is_unavailable
from actorgraph.server.storage.sqlite import SqliteStorage

__all__ = ("Claim", "Conflict", "Gone", "SqliteStorage", "Storage", "Unavailable", "is_unavailable", "matches")
