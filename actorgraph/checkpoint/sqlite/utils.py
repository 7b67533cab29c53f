"""Import-compatible path: SQL helpers of the SQLite savers."""

from actorgraph.persistence._sqlite_utils import (
    _metadata_predicate,
    _validate_filter_key,
    load_pending_writes,
    pending_writes_sql,
    search_where,
)

__all__ = ("load_pending_writes", "pending_writes_sql", "search_where")
