"""Every public error actorgraph raises, in one tree.

```
Exception
 └─ ActorGraphError                   base of every error raised on purpose
     ├─ InvalidUpdateError            a node's output can't be applied to the state
     │   └─ InvalidMessageError       a value can't be a chat message  (also a ValueError)
     ├─ GraphValidationError          compile() found a broken graph  (also a ValueError)
     ├─ EmptyInputError               invoke got no input where the graph needs one
     ├─ ConfigError                   a run's config is missing or wrong  (also a ValueError)
     ├─ SerializationError            a value can't be stored safely, or stored data read back  (also a TypeError)
     ├─ CheckpointError               a saved checkpoint is corrupt, foreign or missing
     │   ├─ CheckpointConflictError   another run moved the thread's head meanwhile
     │   └─ CheckpointNotFoundError   a config names a checkpoint the thread doesn't have
     ├─ EmptyChannelError             a channel was read before anything was written to it
     ├─ GraphRecursionError           the run hit `recursion_limit`  (also a RecursionError)
     ├─ NodeTimeoutError              a node ran longer than its timeout
     ├─ NodeCancelledError            a node's own code raised a cancellation
     ├─ TaskNotFound                  a task id named by a caller doesn't exist
     ├─ UnknownInterruptError         a resume names interrupts that are not pending
     ├─ InvalidNamespaceError         a store namespace can't be used  (also a ValueError)
     └─ DrawingError                  a local renderer (Graphviz, mermaid-cli) failed
         └─ RendererNotFoundError     no local renderer is installed  (also an ImportError)
BaseException
 └─ GraphBubbleUp                     control-flow signals, never failures
     ├─ GraphInterrupt                a node paused the run for human input
     │   └─ NodeInterrupt             (deprecated spelling)
     ├─ GraphDrained                  the run stopped at a step boundary on request (RunControl)
     └─ ParentCommand                 a subgraph node sent a Command to its parent graph

NodeError (not an exception): what a node's error handler receives
```

Errors carry what they are about as attributes, so code never has to read the message:
``node`` (a node's name), ``key`` (a state key, i.e. a channel's name), ``value`` (the
offending value), ``thread_id`` / ``checkpoint_ns`` / ``checkpoint_id`` (a saved
checkpoint), ``task_id``, ``namespace`` / ``label`` (a store namespace). Each is a
keyword argument with the default ``None`` (``None`` also when it doesn't apply), so
``InvalidUpdateError("message")`` still works as in LangGraph, and every error pickles
with its attributes.

Control-flow signals derive from ``BaseException`` on purpose: a node that wraps its
body in ``except Exception`` does not swallow an ``interrupt()`` or a
``Command(graph=Command.PARENT)`` (LangGraph derives them from ``Exception``, so there it
does). Errors raised by a node's own code are re-raised unchanged, with a note naming the
node and task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from actorgraph._types import Command, Interrupt

__all__ = (
    "ActorGraphError",
    "CheckpointConflictError",
    "CheckpointError",
    "CheckpointNotFoundError",
    "ConfigError",
    "DrawingError",
    "EmptyChannelError",
    "EmptyInputError",
    "ErrorCode",
    "GraphBubbleUp",
    "GraphDrained",
    "GraphInterrupt",
    "GraphRecursionError",
    "GraphValidationError",
    "InvalidMessageError",
    "InvalidNamespaceError",
    "InvalidUpdateError",
    "NodeCancelledError",
    "NodeError",
    "NodeInterrupt",
    "NodeTimeoutError",
    "ParentCommand",
    "RendererNotFoundError",
    "SerializationError",
    "TaskNotFound",
    "UnknownInterruptError",
    "is_invalid_resume",
)


class ErrorCode(Enum):
    """Codes that tag an error message with the troubleshooting topic it belongs to."""

    GRAPH_RECURSION_LIMIT = "GRAPH_RECURSION_LIMIT"
    INVALID_CONCURRENT_GRAPH_UPDATE = "INVALID_CONCURRENT_GRAPH_UPDATE"
    INVALID_GRAPH_NODE_RETURN_VALUE = "INVALID_GRAPH_NODE_RETURN_VALUE"
    MULTIPLE_SUBGRAPHS = "MULTIPLE_SUBGRAPHS"
    INVALID_CHAT_HISTORY = "INVALID_CHAT_HISTORY"


def create_error_message(*, message: str, error_code: ErrorCode) -> str:
    """Append the troubleshooting code to an error message."""
    return f"{message}\n(error code: {error_code.value})"


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], attrs: dict[str, Any]) -> BaseException:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(attrs)
    return error


class ActorGraphError(Exception):
    """Base class of every error actorgraph raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt without calling ``__init__``: subclasses take their data as keyword
        # arguments (some required), which ``Exception``'s default pickling drops
        return (_rebuild, (type(self), self.args, self.__dict__))


class InvalidUpdateError(ActorGraphError):
    """A node's output can't be applied to the state.

    Raised when a node returns something other than a dict/Command/None, writes a key the
    state doesn't have, when two tasks write one plain (reducer-less) key in the same
    step, or when a conditional edge or Send names a node that doesn't exist.

    ``node`` is the node whose output (or route) is at fault, ``key`` the state key,
    ``value`` the offending value; ``thread_id`` and ``checkpoint_id`` name the checkpoint
    an ``update_state`` couldn't apply to (each ``None`` when it doesn't apply).
    """

    def __init__(
        self,
        *args: object,
        node: str | None = None,
        key: str | None = None,
        value: Any = None,
        thread_id: str | None = None,
        checkpoint_id: str | None = None,
    ) -> None:
        super().__init__(*args)
        self.node = node
        self.key = key
        self.value = value
        self.thread_id = thread_id
        self.checkpoint_id = checkpoint_id


class InvalidMessageError(InvalidUpdateError, ValueError):
    """A value can't be made into a chat message, or a ``RemoveMessage`` names an id that
    is not in the list.

    Raised by ``add_messages`` (in a run, by the reducer of a messages key, with a note
    naming the key). ``value`` holds the offending value. Also a ``ValueError``, which is
    what LangGraph raises for the same inputs.
    """

    def __init__(self, message: str, value: Any = None, *, node: str | None = None, key: str | None = None) -> None:
        super().__init__(message, node=node, key=key, value=value)


class GraphValidationError(ActorGraphError, ValueError):
    """``compile()`` (or a builder method) found a graph that can't run.

    Also a ``ValueError``, as LangGraph raises ``ValueError`` for these. ``node`` is the
    node at fault (or named by the bad edge), ``key`` the state key.
    """

    def __init__(self, *args: object, node: str | None = None, key: str | None = None) -> None:
        super().__init__(*args)
        self.node = node
        self.key = key


class ConfigError(ActorGraphError, ValueError):
    """A run's config (or a call's options) is missing something or has a bad value: no
    ``thread_id`` for a graph with a checkpointer, a ``configurable`` that isn't a dict, an
    unknown ``durability`` or (in strict mode) ``stream_mode``, a ``recursion_limit`` below 1,
    resuming a thread paused in a node the graph no longer has. Also a ``ValueError``, as
    LangGraph raises ``ValueError`` here.

    ``key`` names the config key or option at fault (``"thread_id"``, ``"durability"``...),
    ``value`` its bad value, ``thread_id`` the thread when one is known.
    """

    def __init__(
        self, *args: object, key: str | None = None, value: Any = None, thread_id: str | None = None
    ) -> None:
        super().__init__(*args)
        self.key = key
        self.value = value
        self.thread_id = thread_id


class SerializationError(ActorGraphError, TypeError):
    """A value can't be stored safely (when writing: its type is not on the allow-list of
    types actorgraph rebuilds; the message names the channel and the type), or stored data
    can't be read back (corrupt bytes, a class that isn't allowed).

    ``key`` is the channel being saved, ``value`` the value that can't be stored,
    ``thread_id`` the thread and ``node`` the task called (each when known)."""

    def __init__(
        self,
        *args: object,
        key: str | None = None,
        value: Any = None,
        thread_id: str | None = None,
        node: str | None = None,
    ) -> None:
        super().__init__(*args)
        self.key = key
        self.value = value
        self.thread_id = thread_id
        self.node = node


class CheckpointError(ActorGraphError):
    """A saved checkpoint can't be read: corrupt or foreign data, or a link to a checkpoint
    that was deleted. The message names the thread and the checkpoint; other threads
    stay readable. ``thread_id``, ``checkpoint_ns`` and ``checkpoint_id`` say which
    checkpoint; ``task_id`` and ``key`` which pending write, when one is at fault."""

    def __init__(
        self,
        *args: object,
        thread_id: str | None = None,
        checkpoint_ns: str | None = None,
        checkpoint_id: str | None = None,
        task_id: str | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(*args)
        self.thread_id = thread_id
        self.checkpoint_ns = checkpoint_ns
        self.checkpoint_id = checkpoint_id
        self.task_id = task_id
        self.key = key


class CheckpointConflictError(CheckpointError):
    """A run's checkpoint wasn't saved because another run wrote to the same thread (and
    namespace) since this one read it: a thread has one head, and writing a checkpoint
    is a compare-and-set on it. Nothing of the conflicting checkpoint is stored; the
    task writes saved before it stay valid. ``expected`` is the head this run read (or
    last wrote), ``found`` the head the saver holds. Re-run from the thread's latest
    state, or give concurrent runs distinct thread ids."""

    def __init__(self, thread_id: str, checkpoint_ns: str, expected: str | None, found: str | None) -> None:
        where = f"thread '{thread_id}'" + (f" (namespace '{checkpoint_ns}')" if checkpoint_ns else "")
        super().__init__(
            f"Another run wrote to {where} while this run was running: its head is now checkpoint "
            f"'{found}', not '{expected}' as this run read it, so this run's checkpoint was not saved. "
            "Re-run from the thread's latest state, or give concurrent runs distinct thread ids.",
            thread_id=thread_id,
            checkpoint_ns=checkpoint_ns,
        )
        self.expected = expected
        self.found = found

    def __reduce__(self) -> Any:
        return (type(self), (self.thread_id, self.checkpoint_ns, self.expected, self.found))


class CheckpointNotFoundError(CheckpointError):
    """A config names a ``checkpoint_id`` the thread doesn't have (invoke, stream or
    update_state from it). LangGraph starts a new root checkpoint there, which becomes the
    thread's head; actorgraph refuses instead, so the thread's state is never reset by a
    mistyped or stale id."""

    def __init__(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, action: str = "continue from") -> None:
        where = f"Thread '{thread_id}'" + (f" (namespace '{checkpoint_ns}')" if checkpoint_ns else "")
        super().__init__(
            f"{where} has no checkpoint '{checkpoint_id}' to {action}: pass a checkpoint_id from "
            "get_state_history(), or leave it out to use the thread's latest state.",
            thread_id=thread_id,
            checkpoint_ns=checkpoint_ns,
            checkpoint_id=checkpoint_id,
        )
        self.action = action

    def __reduce__(self) -> Any:
        return (type(self), (self.thread_id, self.checkpoint_ns, self.checkpoint_id, self.action))


class EmptyInputError(ActorGraphError):
    """The graph was invoked with no input where it needs one. ``thread_id`` and
    ``checkpoint_id`` name the thread (and the checkpoint asked for) when there is one."""

    def __init__(self, *args: object, thread_id: str | None = None, checkpoint_id: str | None = None) -> None:
        super().__init__(*args)
        self.thread_id = thread_id
        self.checkpoint_id = checkpoint_id


class EmptyChannelError(ActorGraphError):
    """A channel was read before anything was written to it; ``key`` is the channel."""

    def __init__(self, *args: object, key: str | None = None) -> None:
        super().__init__(*args)
        self.key = key


class GraphRecursionError(ActorGraphError, RecursionError):
    """The run took more super-steps than ``recursion_limit`` allows.

    The limit guards against runaway loops. Raise it for long graphs with the config key:
    ``graph.invoke(inputs, {"recursion_limit": 100})``. ``limit`` is the limit that was
    hit, ``thread_id`` the thread (when the graph has a checkpointer).
    """

    def __init__(self, *args: object, limit: int | None = None, thread_id: str | None = None) -> None:
        super().__init__(*args)
        self.limit = limit
        self.thread_id = thread_id


class NodeTimeoutError(ActorGraphError):
    """A node attempt ran longer than its ``TimeoutPolicy`` allows.

    ``kind`` says which limit fired (``"run"``: wall-clock cap, ``"idle"``: no progress
    for ``idle_timeout``) and ``timeout`` is that limit; ``run_timeout`` and
    ``idle_timeout`` are the policy's two limits (``None`` when unset). Not a subclass of
    the built-in ``TimeoutError`` (an ``OSError``), so the default retry policy retries it.
    """

    def __init__(
        self,
        node: str,
        elapsed: float,
        *,
        kind: Literal["idle", "run"],
        idle_timeout: float | None = None,
        run_timeout: float | None = None,
    ) -> None:
        if kind == "idle":
            if idle_timeout is None:
                raise ValueError("idle_timeout is required when kind='idle'")
            timeout = idle_timeout
            what = f"idle timeout of {timeout:.3f}s without making progress"
        elif kind == "run":
            if run_timeout is None:
                raise ValueError("run_timeout is required when kind='run'")
            timeout = run_timeout
            what = f"run timeout of {timeout:.3f}s"
        else:
            raise ValueError(f"kind must be 'idle' or 'run', got {kind!r}")
        super().__init__(f"Node '{node}' exceeded its {what} (elapsed: {elapsed:.3f}s).")
        self.node = node
        self.elapsed = elapsed
        self.kind = kind
        self.timeout = timeout
        self.idle_timeout = idle_timeout
        self.run_timeout = run_timeout


@dataclass(frozen=True, slots=True)
class NodeError:
    """What a node's error handler gets (``add_node(..., error_handler=fn)``, with a
    parameter annotated ``NodeError``): the failed node's name and its exception. A run
    resumed after the handler itself failed runs the handler again, not the node; its
    ``error`` is then the exception's saved text (its ``repr``), as in LangGraph."""

    node: str
    error: BaseException


class NodeCancelledError(ActorGraphError):
    """A node's own code raised a cancellation exception (not a cancellation of the run)."""

    def __init__(self, node: str, message: str | None = None) -> None:
        super().__init__(message or f"Node '{node}' raised a cancellation from its own code")
        self.node = node


class TaskNotFound(ActorGraphError):
    """A task id passed by the caller does not exist in the current step; ``task_id`` is it."""

    def __init__(self, *args: object, task_id: str | None = None) -> None:
        super().__init__(*args)
        self.task_id = task_id


class UnknownInterruptError(ActorGraphError):
    """A resume value names interrupts that are not pending, or is ambiguous.

    ``reason`` is ``"not_pending"``, ``"empty_map"`` or ``"ambiguous"``;
    ``interrupt_ids`` lists the ids the caller named and ``pending_ids`` the ones that are
    waiting; ``thread_id`` is the thread. Nothing is written when this is raised, so the
    run can still be resumed.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: Literal["not_pending", "empty_map", "ambiguous"],
        interrupt_ids: Sequence[str] = (),
        pending_ids: Sequence[str] = (),
        thread_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.thread_id = thread_id
        self.reason = reason
        self.interrupt_ids = tuple(interrupt_ids)
        self.pending_ids = tuple(pending_ids)


class InvalidNamespaceError(ActorGraphError, ValueError):
    """A store namespace can't be used: it is empty, one of its labels is not a string,
    is empty or contains a period (``.``) or a NUL byte, or (when writing) its root label
    is the reserved ``"langgraph"``. The message names the namespace and the label.

    Also a ``ValueError``, as LangGraph's ``InvalidNamespaceError`` is. ``namespace`` is
    the namespace as given, ``label`` the label at fault (``None`` when it's the whole
    namespace).
    """

    def __init__(self, *args: object, namespace: Any = None, label: Any = None) -> None:
        super().__init__(*args)
        self.namespace = namespace
        self.label = label


class DrawingError(ActorGraphError):
    """A local renderer (Graphviz ``dot``, mermaid-cli ``mmdc``) ran and failed; the message
    carries its error output."""


class RendererNotFoundError(DrawingError, ImportError):
    """An image was asked for but no local renderer is installed; the message says what to
    install. actorgraph never sends a graph to a network service to draw it."""


class GraphBubbleUp(BaseException):
    """Base of control-flow signals that travel up through nodes and graphs."""


class GraphDrained(GraphBubbleUp):
    """The run stopped early, at a super-step boundary, because
    ``RunControl.request_drain(reason)`` was called (on SIGTERM, say). Everything up to
    that step is saved: invoke the thread again with ``None`` to go on."""

    def __init__(self, reason: str = "shutdown") -> None:
        self.reason = reason
        super().__init__(f"Graph drained: {reason}")


class GraphInterrupt(GraphBubbleUp):
    """A node (or a subgraph) paused the run; carries the interrupts raised."""

    def __init__(self, interrupts: Sequence[Interrupt] = ()) -> None:
        # kept as given (``args[0]`` is the caller's list or tuple, as in LangGraph)
        super().__init__(interrupts)

    @property
    def interrupts(self) -> tuple[Interrupt, ...]:
        return tuple(self.args[0]) if self.args else ()


class NodeInterrupt(GraphInterrupt):
    """Deprecated: call ``actorgraph.types.interrupt(value)`` instead."""

    def __init__(self, value: Any, id: str | None = None) -> None:
        import warnings

        from actorgraph._types import Interrupt
        from actorgraph.warnings import LangGraphDeprecatedSinceV10

        warnings.warn(
            "NodeInterrupt is deprecated. Please use `langgraph.types.interrupt` instead.",
            LangGraphDeprecatedSinceV10,
            stacklevel=2,
        )
        super().__init__([Interrupt(value=value) if id is None else Interrupt(value=value, id=id)])


class ParentCommand(GraphBubbleUp):
    """Carries a ``Command(graph=Command.PARENT)`` from a subgraph node to its parent."""

    def __init__(self, command: Command) -> None:
        super().__init__(command)

    @property
    def command(self) -> Command:
        return self.args[0]


def _fill(error: BaseException, **attrs: Any) -> None:
    """Set those of ``attrs`` that ``error`` (one of ours) carries but left ``None``: the
    code that catches an error on its way up knows the node or key it was about."""
    if isinstance(error, ActorGraphError):
        for name, value in attrs.items():
            if value is not None and getattr(error, name, value) is None:
                setattr(error, name, value)


_INVALID_RESUME = "_actorgraph_invalid_resume"


def _mark_invalid_resume(error: BaseException) -> None:
    setattr(error, _INVALID_RESUME, True)


def is_invalid_resume(error: BaseException) -> bool:
    """Whether ``error`` was raised because a resume value didn't match the
    ``response_schema`` of the ``interrupt()`` it answered (so the interrupt can be answered
    again), rather than by the node's own code."""
    return bool(getattr(error, _INVALID_RESUME, False))
