"""Where the server keeps assistants, threads, runs and run events: one protocol, one
implementation per database (SQLite now)."""

from actorgraph.server.storage._base import Conflict, Storage, matches
from actorgraph.server.storage.sqlite import SqliteStorage

__all__ = ("Conflict", "SqliteStorage", "Storage", "matches")
