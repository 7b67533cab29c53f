"""Import-compatible path: the SQLite checkpoint saver (sync calls and async calls)."""

from actorgraph.persistence._sqlite import SqliteSaver

__all__ = ("SqliteSaver",)
