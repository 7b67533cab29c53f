"""Stand-in for langgraph.store.postgres.base: its public names are actorgraph's (the
Postgres store and its settings); the private helpers of LangGraph's SQL (LIKE escaping,
the namespace pattern builder) have no counterpart in actorgraph's store and raise when
used."""

from actorgraph.store.postgres.base import ANNIndexConfig, PoolConfig, PostgresIndexConfig, PostgresStore


def _not_in_actorgraph(name: str) -> NotImplementedError:
    return NotImplementedError(f"{name} is a private helper of LangGraph's PostgresStore; actorgraph has none")


def _escape_like_literal(*args: object, **kwargs: object) -> str:
    raise _not_in_actorgraph("_escape_like_literal")


def _namespace_match_pattern(*args: object, **kwargs: object) -> str:
    raise _not_in_actorgraph("_namespace_match_pattern")


__all__ = ("ANNIndexConfig", "PoolConfig", "PostgresIndexConfig", "PostgresStore")
