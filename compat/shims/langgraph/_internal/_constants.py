"""Stand-in for ``langgraph._internal._constants`` (compat run only).

The reserved names actorgraph shares with LangGraph come from actorgraph itself; the
config keys of LangGraph's own loop have no meaning to actorgraph and are plain strings.
"""

from actorgraph._constants import (  # noqa: F401
    CONF,
    CONFIG_KEY_CHECKPOINT_ID,
    CONFIG_KEY_CHECKPOINT_MAP,
    CONFIG_KEY_CHECKPOINT_NS,
    CONFIG_KEY_CHECKPOINTER,
    CONFIG_KEY_STRICT_RESUME,
    CONFIG_KEY_TASK_ID,
    CONFIG_KEY_THREAD_ID,
    END,
    ERROR,
    INPUT,
    INTERRUPT,
    NO_WRITES,
    NS_END,
    NS_SEP,
    NULL_TASK_ID,
    PREVIOUS,
    PULL,
    PUSH,
    RESUME,
    RETURN,
    START,
    TASKS,
)

OVERWRITE = "__overwrite__"
CONFIG_KEY_SEND = "__pregel_send"
CONFIG_KEY_READ = "__pregel_read"
CONFIG_KEY_CALL = "__pregel_call"
CONFIG_KEY_STREAM = "__pregel_stream"
CONFIG_KEY_CACHE = "__pregel_cache"
CONFIG_KEY_RESUMING = "__pregel_resuming"
CONFIG_KEY_NODE_FINISHED = "__pregel_node_finished"
CONFIG_KEY_TIMED_ATTEMPT_OBSERVER = "__pregel_timed_attempt_observer"
CONFIG_KEY_SCRATCHPAD = "__pregel_scratchpad"
CONFIG_KEY_DURABILITY = "__pregel_durability"
CONFIG_KEY_RUNTIME = "__pregel_runtime"
CONFIG_KEY_RESUME_MAP = "__pregel_resume_map"
