"""Reserved names shared by every layer: graph endpoints, reserved channels, config keys.

The string values match LangGraph's, so configs, checkpoints metadata and stream chunks
look the same to code written for it.
"""

from __future__ import annotations

import sys
from typing import Final, Literal

# identifier-like string literals are interned by the compiler already
START: Final = "__start__"
"""The virtual first node: edges from START pick where a run begins."""
END: Final = "__end__"
"""The virtual last node: an edge to END ends that branch."""

TAG_HIDDEN: Final = sys.intern("langsmith:hidden")
"""Tag that hides a node from the updates/tasks/debug streams."""
TAG_NOSTREAM: Final = sys.intern("nostream")
"""Tag that keeps a node's messages out of the ``messages`` stream."""

CONF: Final[Literal["configurable"]] = "configurable"
TASKS: Final = sys.intern("__pregel_tasks")
INPUT: Final = sys.intern("__input__")
INTERRUPT: Final = sys.intern("__interrupt__")
RESUME: Final = sys.intern("__resume__")
ERROR: Final = sys.intern("__error__")
ERROR_SOURCE_NODE: Final = sys.intern("__error_source_node__")
"""Pending-write channel (LangGraph's): the task failed and its error handler took over;
the value is the failed node's name. A resume runs the handler, not the node."""
ERROR_HANDLER_PREFIX: Final = "__error_handler__"
"""``__error_handler__<node>``: the node that runs ``add_node(node, error_handler=...)``."""
DEFAULT_ERROR_HANDLER: Final = "__default_error_handler__"
"""The node that runs ``set_node_defaults(error_handler=...)``."""
NO_WRITES: Final = sys.intern("__no_writes__")
RETURN: Final = sys.intern("__return__")
PREVIOUS: Final = sys.intern("__previous__")
PUSH: Final = sys.intern("__pregel_push")
PULL: Final = sys.intern("__pregel_pull")
NS_SEP: Final = sys.intern("|")
NS_END: Final = sys.intern(":")
NULL_TASK_ID: Final = "00000000-0000-0000-0000-000000000000"

CONFIG_KEY_CHECKPOINTER: Final = sys.intern("__pregel_checkpointer")
CONFIG_KEY_THREAD_ID: Final = "thread_id"
CONFIG_KEY_CHECKPOINT_ID: Final = "checkpoint_id"
CONFIG_KEY_CHECKPOINT_NS: Final = "checkpoint_ns"
CONFIG_KEY_CHECKPOINT_MAP: Final = "checkpoint_map"
CONFIG_KEY_TASK_ID: Final = sys.intern("__pregel_task_id")
CONFIG_KEY_STRICT_RESUME: Final = sys.intern("__pregel_strict_resume")
CONFIG_KEY_NODE_FINISHED: Final = sys.intern("__pregel_node_finished")
"""Configurable key: ``True`` makes resuming strict (``UnknownInterruptError`` for a resume
that names no pending interrupt or is ambiguous), as ``compile(strict=True)`` does."""

RESERVED_NAMES: Final = frozenset({START, END})
RESERVED_CHARS: Final = (NS_SEP, NS_END)
CONFIG_KEY_RUNTIME: Final = sys.intern("__pregel_runtime")
"""Configurable key: a ``Runtime`` (or an object with a ``context``) that a run started
with it inherits from (its context, control and server info, when the run has none)."""
CONFIG_KEY_DURABILITY: Final = sys.intern("__pregel_durability")
"""Configurable key in a node's config: the durability the run was given explicitly."""
CONFIG_KEY_STREAM: Final = sys.intern("__pregel_stream")
"""Configurable key: a ``StreamProtocol``-like sink (``stream(chunk)``, ``stream.modes``)
to which a remote graph run as a subgraph forwards its events."""
