"""Stand-in for ``langgraph._internal._config`` (compat run only): the default recursion
limit, the config helpers and the LangChain callback managers for a config are
actorgraph's own."""

from actorgraph._callbacks import get_async_callback_manager_for_config, get_callback_manager_for_config  # noqa: F401
from actorgraph.actors._run import DEFAULT_RECURSION_LIMIT  # noqa: F401
from actorgraph.pregel._runnable import ensure_config, merge_configs, patch_configurable  # noqa: F401
