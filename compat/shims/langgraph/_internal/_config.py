"""Stand-in for ``langgraph._internal._config`` (compat run only): the default recursion
limit and the config helpers are actorgraph's own; LangGraph's callback-manager helper has no counterpart (a
placeholder that raises)."""

from actorgraph.actors._run import DEFAULT_RECURSION_LIMIT  # noqa: F401
from actorgraph.actors._runnable import ensure_config, merge_configs, patch_configurable  # noqa: F401


def get_async_callback_manager_for_config(*args: object, **kwargs: object) -> object:
    raise NotImplementedError("actorgraph has no callback managers (compat placeholder)")
