"""Where the server keeps assistants, threads, runs and run events: one protocol, one
implementation per database (SQLite now)."""

from actorgraph.server.storage._base import Claim, Conflict, Gone, Storage, matches
from actorgraph.server.storage.sqlite import SqliteStorage

__all__ = ("Claim", "Conflict", "Gone", "SqliteStorage", "Storage", "matches")
