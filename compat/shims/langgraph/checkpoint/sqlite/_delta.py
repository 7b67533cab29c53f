"""Stand-in for langgraph.checkpoint.sqlite._delta: the ancestor-walk SQL of actorgraph's
SQLite savers (the recursive query LangGraph's test plans with EXPLAIN)."""

from actorgraph.persistence._sqlite_utils import ANCESTORS_SQL as DELTA_STAGE1_SQL

__all__ = ("DELTA_STAGE1_SQL",)
