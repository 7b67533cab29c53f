"""Stand-in for langgraph.store.sqlite.base: its public names are actorgraph's (the SQLite
store and its index settings); the private helpers of LangGraph's SQL (GLOB escaping,
the regex namespace matcher, BaseSqliteStore's query builders) have no counterpart in
actorgraph's store, which matches namespaces by key ranges, and raise when used."""

from actorgraph.store.sqlite.base import SqliteIndexConfig, SqliteStore

NS_MATCH_FUNCTION = "ns_match"


def _not_in_actorgraph(name: str) -> NotImplementedError:
    return NotImplementedError(f"{name} is a private helper of LangGraph's SqliteStore; actorgraph has none")


def _escape_glob_literal(*args: object, **kwargs: object) -> str:
    raise _not_in_actorgraph("_escape_glob_literal")


def _namespace_match_pattern(*args: object, **kwargs: object) -> str:
    raise _not_in_actorgraph("_namespace_match_pattern")


class BaseSqliteStore:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise _not_in_actorgraph("BaseSqliteStore")


__all__ = ("NS_MATCH_FUNCTION", "BaseSqliteStore", "SqliteIndexConfig", "SqliteStore")
