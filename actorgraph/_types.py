"""Public value types that nodes return and runs report: Send, Command, Interrupt,
policies, snapshots. Pure data: the engine gives them meaning."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Hashable, Sequence
from datetime import timedelta
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Generic,
    Literal,
    NamedTuple,
    TypeVar,
)

if TYPE_CHECKING:
    from actorgraph._config_types import RunnableConfig

__all__ = (
    "All",
    "CachePolicy",
    "Command",
    "Durability",
    "Interrupt",
    "Overwrite",
    "PregelExecutableTask",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "StreamWriter",
    "TimeoutPolicy",
    "TracePolicy",
    "default_retry_on",
    "omit_payload",
)

StreamMode = Literal["values", "updates", "checkpoints", "tasks", "debug", "messages", "custom"]
"""What ``stream()`` yields: full state after each step (``values``), each node's update
(``updates``), data from ``get_stream_writer()`` (``custom``), LLM message chunks
(``messages``), saved checkpoints (``checkpoints``), task starts/results (``tasks``), or
both of the last two (``debug``)."""

STREAM_MODES: frozenset[str] = frozenset(
    ("values", "updates", "checkpoints", "tasks", "debug", "messages", "custom")
)

Durability = Literal["sync", "async", "exit"]
"""When a run's checkpoints reach the saver: before the next step starts (``sync``), while
it runs (``async``), or only when the run stops (``exit``)."""

All = Literal["*"]
"""``interrupt_before="*"`` / ``interrupt_after="*"``: pause at every node."""

StreamWriter = Callable[[Any], None]
"""A callable that sends one item to the ``custom`` stream (a no-op when nobody listens)."""

N = TypeVar("N", bound=Hashable)


class Send:
    """Run ``node`` in the next step with ``arg`` as its input (instead of the state).

    Returned from a conditional edge (or in ``Command(goto=...)``) to fan out: each Send
    becomes one task, so ``[Send("work", x) for x in items]`` runs ``work`` once per item,
    all in the same super-step.
    """

    __slots__ = ("node", "arg", "timeout")

    def __init__(self, /, node: str, arg: Any, *, timeout: Any = None) -> None:
        self.node = node
        self.arg = arg
        self.timeout = TimeoutPolicy.coerce(timeout)

    def __hash__(self) -> int:
        return hash((self.node, repr(self.arg)))

    def __repr__(self) -> str:
        if self.timeout is None:
            return f"Send(node={self.node!r}, arg={self.arg!r})"
        return f"Send(node={self.node!r}, arg={self.arg!r}, timeout={self.timeout!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Send)
            and self.node == other.node
            and self.arg == other.arg
            and self.timeout == other.timeout
        )


@dataclasses.dataclass(kw_only=True, slots=True, frozen=True)
class Command(Generic[N]):
    """Update the state and choose where to go next, in one return value.

    - ``update``: a state update, as a node would return it (dict, list of ``(key,
      value)`` pairs, or a schema object).
    - ``goto``: a node name, a ``Send``, or a sequence of them; these run next.
    - ``graph``: ``None`` for this graph, ``Command.PARENT`` for the graph that contains
      this one as a subgraph.
    - ``resume``: the answer to a pending ``interrupt()`` (a value, or a map of interrupt
      id to value), when passed as a run's input.
    """

    graph: str | None = None
    update: Any | None = None
    resume: dict[str, Any] | Any | None = None
    goto: Send | Sequence[Send | N] | N = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name)
        )
        return f"Command({parts})"

    def _update_as_tuples(self) -> Sequence[tuple[str, Any]]:
        update = self.update
        if update is None:
            return []
        if isinstance(update, dict):
            return list(update.items())
        if isinstance(update, (list, tuple)) and all(
            isinstance(t, tuple) and len(t) == 2 and isinstance(t[0], str) for t in update
        ):
            return list(update)
        from actorgraph._schema_values import object_to_pairs

        pairs = object_to_pairs(update)
        if pairs is not None:
            return pairs
        return [("__root__", update)]


# LangChain interop: a LangChain tool returns an instance of ``ToolOutputMixin`` as it is
# (anything else becomes a ToolMessage's text), and a tool that returns a Command must
# reach the graph as a Command (agent handoffs). LangGraph's Command subclasses the mixin;
# importing langchain_core here would triple the import time of actorgraph, so Command
# gains the base when LangChain's module is imported (now, if it already is).
_TOOL_OUTPUT_MODULE = "langchain_core.messages.tool"


def _adopt_tool_output_mixin(module: Any) -> None:
    mixin = getattr(module, "ToolOutputMixin", None)
    if isinstance(mixin, type) and not issubclass(Command, mixin):
        Command.__bases__ = (*Command.__bases__, mixin)


class _AfterExecLoader:
    """Runs the wrapped loader, then ``_adopt_tool_output_mixin`` on the module."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        _adopt_tool_output_mixin(module)

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, ... of the real loader
        return getattr(self._loader, name)


class _ToolOutputHook:
    """A meta-path finder that waits for ``langchain_core.messages.tool`` (then leaves)."""

    @classmethod
    def find_spec(cls, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != _TOOL_OUTPUT_MODULE:
            return None
        import sys

        if cls in sys.meta_path:
            sys.meta_path.remove(cls)  # type: ignore[arg-type]
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _AfterExecLoader(spec.loader)
                return spec
        return None


def _install_tool_output_hook() -> None:
    import sys

    module = sys.modules.get(_TOOL_OUTPUT_MODULE)
    if module is not None:
        _adopt_tool_output_mixin(module)
    elif _ToolOutputHook not in sys.meta_path:
        sys.meta_path.insert(0, _ToolOutputHook)  # type: ignore[arg-type]


_install_tool_output_hook()


@dataclasses.dataclass(init=False, slots=True)
class Interrupt:
    """A pause requested by ``interrupt(value)``: ``value`` goes to the caller and ``id``
    names the pause, so a resume can answer it by id."""

    value: Any
    id: str
    response_schema: Any = None

    def __init__(self, value: Any, id: str = "placeholder-id", *, response_schema: Any = None, **deprecated: Any) -> None:
        self.value = value
        # older LangGraph versions' fields (``ns``, ``when``, ``resumable``) are accepted,
        # as in LangGraph: an interrupt saved by one of them still loads; its ``ns`` names it
        ns = deprecated.get("ns")
        if id == "placeholder-id" and isinstance(ns, (list, tuple)):
            from xxhash import xxh3_128_hexdigest

            id = xxh3_128_hexdigest("|".join(ns).encode())
        self.id = id
        self.response_schema = response_schema

    @classmethod
    def from_ns(cls, value: Any, ns: str, *, response_schema: Any = None) -> Interrupt:
        """The interrupt a task at checkpoint namespace ``ns`` raises first (its id is
        the one ``interrupt()`` there gives)."""
        from xxhash import xxh3_128_hexdigest

        return cls(value, xxh3_128_hexdigest(ns.encode()), response_schema=response_schema)

    @property
    def interrupt_id(self) -> str:
        """Deprecated spelling of ``id``."""
        import warnings

        from actorgraph.warnings import LangGraphDeprecatedSinceV10

        warnings.warn("`interrupt_id` is deprecated. Use `id` instead.", LangGraphDeprecatedSinceV10, stacklevel=2)
        return self.id


@dataclasses.dataclass(slots=True)
class Overwrite:
    """Write ``value`` to a reducer key as is, bypassing the reducer (once per step)."""

    value: Any
    type: Literal["__overwrite__"] = "__overwrite__"


_NOT_RETRIED: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    ArithmeticError,
    ImportError,
    LookupError,
    NameError,
    SyntaxError,
    RuntimeError,
    ReferenceError,
    StopIteration,
    StopAsyncIteration,
    AssertionError,
    AttributeError,
    NotImplementedError,
)


def default_retry_on(exc: BaseException) -> bool:
    """The default ``retry_on``: retry transient failures, never programming errors.

    Retried: connection errors, timeouts, HTTP responses with a 5xx status (any exception
    with a ``status_code`` or ``response.status_code`` of 500-599; a ``requests`` HTTP error
    with no response), and other exceptions
    that are not programming errors. Not retried: ``ValueError``, ``TypeError``,
    ``KeyError`` and the other errors a bug raises, and 4xx HTTP errors.
    """
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return 500 <= status < 600
    if isinstance(exc, OSError):
        # requests' HTTPError (an OSError) that got no response at all: transient, as
        # LangGraph retries it (requests is loaded if one of its errors exists)
        requests_errors = sys.modules.get("requests.exceptions")
        return (
            requests_errors is not None
            and isinstance(exc, requests_errors.HTTPError)
            and getattr(exc, "response", None) is None
        )
    from actorgraph.errors import NodeTimeoutError

    if isinstance(exc, NodeTimeoutError):
        return True
    return not isinstance(exc, _NOT_RETRIED)


class RetryPolicy(NamedTuple):
    """How to retry a failing node: exponential backoff with optional jitter."""

    initial_interval: float = 0.5
    """Seconds before the first retry."""
    backoff_factor: float = 2.0
    """Multiplier of the interval after each retry."""
    max_interval: float = 128.0
    """Upper bound of the interval between retries, in seconds."""
    max_attempts: int = 3
    """Attempts in all, the first one included."""
    jitter: bool = True
    """Add a random fraction of a second to each interval."""
    retry_on: (
        type[BaseException] | Sequence[type[BaseException]] | Callable[[BaseException], bool]
    ) = default_retry_on
    """Exception types to retry, or a predicate that says whether to retry."""


def _default_cache_key(*args: Any, **kwargs: Any) -> str:
    from actorgraph._cache_key import stable_cache_key

    return stable_cache_key(args, kwargs)


@dataclasses.dataclass(kw_only=True, slots=True, frozen=True)
class CachePolicy(Generic[N]):
    """Cache a node's writes by a key computed from its input."""

    key_func: Callable[..., str | bytes] = _default_cache_key
    """Maps the node's input to a cache key."""
    ttl: int | None = None
    """Seconds an entry stays valid; ``None`` keeps it until cleared."""


def _seconds(value: float | timedelta | None, field: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not seconds > 0:
        raise ValueError(f"{field} must be greater than 0 (seconds), got {value!r}")
    return seconds


@dataclasses.dataclass(kw_only=True, slots=True, frozen=True)
class TimeoutPolicy:
    """Limits on how long one attempt of a node may run."""

    run_timeout: float | timedelta | None = None
    """Seconds an attempt may take in all."""
    idle_timeout: float | timedelta | None = None
    """Seconds an attempt may go without progress (a heartbeat or a stream write)."""
    refresh_on: Literal["auto", "heartbeat"] = "auto"

    @classmethod
    def coerce(cls, value: float | timedelta | TimeoutPolicy | None) -> TimeoutPolicy | None:
        """``None``, a number of seconds, a ``timedelta`` or a policy, as a validated policy."""
        if value is None:
            return None
        if isinstance(value, TimeoutPolicy):
            given_run, given_idle = value.run_timeout, value.idle_timeout
            if (
                value.refresh_on in ("auto", "heartbeat")
                and (given_run is None or (type(given_run) is float and given_run > 0))
                and (given_idle is None or (type(given_idle) is float and given_idle > 0))
                and (given_run is not None or given_idle is not None)
            ):
                # already coerced (frozen, so safe to share): the same instance, as
                # LangGraph returns
                return value
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float, timedelta)):
                raise TypeError(
                    f"timeout must be seconds (a number), a timedelta or a TimeoutPolicy, "
                    f"got {value!r}"
                )
            value = cls(run_timeout=value)
        if value.refresh_on not in ("auto", "heartbeat"):
            raise ValueError(f"refresh_on must be 'auto' or 'heartbeat', got {value.refresh_on!r}")
        run = _seconds(value.run_timeout, "run_timeout")
        idle = _seconds(value.idle_timeout, "idle_timeout")
        if run is None and idle is None:
            return None
        return cls(run_timeout=run, idle_timeout=idle, refresh_on=value.refresh_on)


@dataclasses.dataclass(kw_only=True, slots=True, frozen=True)
class TracePolicy:
    """What a node's trace run records (LangChain tracers such as LangSmith's): its input
    through ``process_inputs``, its output through ``process_outputs``. Only the node's own
    run is affected, only tracers see the processed values (other callback handlers and
    every stream get the real ones), and the node's execution never: a processor that
    raises is logged and the value is recorded as it is. Not a way to redact secrets
    across a trace (runs of models a node calls record their own payloads)."""

    process_inputs: Callable[[Any], Any] | None = None
    process_outputs: Callable[[Any], Any] | None = None


def omit_payload(_value: Any) -> dict[str, Any]:
    """A ``TracePolicy`` processor that records nothing (``{}``): the node's run keeps its
    timing, not its payload."""
    return {}


class StateUpdate(NamedTuple):
    """One update for ``bulk_update_state``."""

    values: dict[str, Any] | None
    as_node: str | None = None
    task_id: str | None = None


class PregelTask(NamedTuple):
    """A task of a step, as ``get_state()`` reports it."""

    id: str
    name: str
    path: tuple[str | int | tuple[Any, ...], ...]
    error: Exception | None = None
    interrupts: tuple[Interrupt, ...] = ()
    state: None | RunnableConfig | StateSnapshot = None
    result: Any | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PregelExecutableTask:
    """A task ready to run, as LangGraph's loop hands it to its runner: the node, its
    input and config, the writes it made, its policies. actorgraph's actors run tasks
    without building these; the type is here for code that annotates with it or builds
    one (``pregel.debug.map_debug_tasks`` reads them)."""

    name: str
    input: Any
    proc: Any
    writes: Any
    config: RunnableConfig
    triggers: Sequence[str]
    retry_policy: Sequence[RetryPolicy]
    cache_key: Any
    id: str
    path: tuple[str | int | tuple[Any, ...], ...]
    writers: Sequence[Any] = ()
    subgraphs: Sequence[Any] = ()
    timeout: TimeoutPolicy | None = None


class StateSnapshot(NamedTuple):
    """The state of a thread at one checkpoint."""

    values: dict[str, Any] | Any
    """Channel values at this checkpoint."""
    next: tuple[str, ...]
    """Names of the nodes that run next."""
    config: RunnableConfig
    """The config that points at this checkpoint."""
    metadata: dict[str, Any] | None
    """Metadata saved with the checkpoint (``source``, ``step``, ``parents``...)."""
    created_at: str | None
    """When the checkpoint was made (ISO 8601)."""
    parent_config: RunnableConfig | None
    """The config of the checkpoint before this one."""
    tasks: tuple[PregelTask, ...]
    """The tasks of the next step, with their errors and interrupts."""
    interrupts: tuple[Interrupt, ...] = ()
    """Interrupts waiting for an answer."""
