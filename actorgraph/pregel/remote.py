"""``RemoteGraph``: a graph that runs on a LangGraph-compatible server, driven through
the ``langgraph-sdk`` client, with the local graph API (``invoke``, ``stream``,
``get_state``, ``update_state``, ``get_graph``, ``stream_events(version="v3")``), so it
can stand wherever a compiled graph can, including as a node of another graph.

As a node it runs on the parent's thread (its ``thread_id``), its interrupts pause the
parent, a ``Command(graph=Command.PARENT)`` it sends reaches the parent, and its events
join a parent stream that takes subgraph events, under the node's namespace.

(The implementation lives here rather than in a private module: ``_merge_tracing_headers``
is looked up in this module at call time, where callers and tests may replace it.)
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any
from uuid import UUID

from actorgraph._constants import (
    CONF,
    CONFIG_KEY_CHECKPOINT_ID,
    CONFIG_KEY_CHECKPOINT_MAP,
    CONFIG_KEY_CHECKPOINT_NS,
    CONFIG_KEY_STREAM,
    CONFIG_KEY_STRICT_RESUME,
    CONFIG_KEY_TASK_ID,
    INTERRUPT,
    NS_SEP,
)
from actorgraph._stream_types import GraphOutput
from actorgraph._types import Command, Interrupt, PregelTask, StateSnapshot
from actorgraph.actors._context import current_task
from actorgraph.pregel._runnable import merge_configs
from actorgraph.errors import GraphInterrupt, ParentCommand
from actorgraph.pregel._remote_run_stream import _AsyncRemoteGraphRunStream, _RemoteGraphRunStream

__all__ = ("RemoteException", "RemoteGraph")

_log = logging.getLogger("actorgraph.pregel.remote")

# configurable keys that address the caller's own checkpoints: never sent to the server
_CONF_DROPLIST = frozenset(
    (CONFIG_KEY_CHECKPOINT_MAP, CONFIG_KEY_CHECKPOINT_ID, CONFIG_KEY_CHECKPOINT_NS, CONFIG_KEY_TASK_ID, CONFIG_KEY_STRICT_RESUME)
)

_V3_SUPPORTED_KWARGS = frozenset({"metadata", "headers"})
"""Keyword arguments ``stream_events(version="v3")`` passes on (others are refused)."""


class RemoteException(Exception):
    """The remote run reported an error (its payload is the exception's argument)."""


def _sanitize_config_value(value: Any) -> Any:
    """``value`` with only what a request body can carry (strings, numbers, booleans,
    UUIDs, and dicts with string keys and lists of them); ``None`` for anything else."""
    if isinstance(value, (str, int, float, bool, UUID)):
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str):
                clean = _sanitize_config_value(item)
                if clean is not None:
                    out[key] = clean
        return out
    if isinstance(value, (list, tuple)):
        return [clean for item in value if (clean := _sanitize_config_value(item)) is not None]
    return None


class _EngineStream:
    """The stream of the actorgraph run whose node is calling the remote graph, as a
    ``StreamProtocol``: ``modes`` it takes, and a call per ``(ns, mode, chunk)``."""

    __slots__ = ("run", "modes")

    def __init__(self, run: Any) -> None:
        self.run = run
        self.modes = set(run.cfg.sink.modes)

    def __call__(self, chunk: tuple[tuple[str, ...], str, Any]) -> None:
        self.run.emit_chunk(chunk)


def _parent_stream(config: Any) -> Any:
    """Where the remote run's events go besides the caller: a stream passed in the config,
    or the stream of the actorgraph run whose node this is, if it takes subgraph events."""
    stream = ((config or {}).get(CONF) or {}).get(CONFIG_KEY_STREAM)
    if stream is not None:
        return stream
    tctx = current_task()
    if tctx is not None and tctx.run.cfg.sink.subgraphs and tctx.run.cfg.sink.modes:
        return _EngineStream(tctx.run)
    return None


class RemoteGraph:
    """A graph deployed on a LangGraph-compatible server (``actorgraph serve``, LangGraph
    Platform...), addressed by assistant id or graph name.

    Give ``url`` (and ``api_key``/``headers``) to make the SDK clients, or your own
    ``client`` (async) / ``sync_client``. ``config`` is merged under every call's config;
    ``name`` names it as a node (default: the assistant id); ``distributed_tracing``
    sends the current LangSmith trace's headers, so the server's trace nests in yours.
    """

    assistant_id: str
    name: str | None

    def __init__(
        self,
        assistant_id: str,
        /,
        *,
        url: str | None = None,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
        client: Any = None,
        sync_client: Any = None,
        config: Any = None,
        name: str | None = None,
        distributed_tracing: bool = False,
    ) -> None:
        self.assistant_id = assistant_id
        self.name = assistant_id if name is None else name
        self.config = config
        self.distributed_tracing = distributed_tracing
        if url is not None and (client is None or sync_client is None):
            from langgraph_sdk.client import get_client, get_sync_client

            if client is None:
                client = get_client(url=url, api_key=api_key, headers=headers)
            if sync_client is None:
                sync_client = get_sync_client(url=url, api_key=api_key, headers=headers)
        self.client = client
        self.sync_client = sync_client

    # -- clients and config ------------------------------------------------------------
    def _validate_client(self) -> Any:
        if self.client is None:
            raise ValueError(
                "Async client is not initialized: please provide `url` or `client` when initializing `RemoteGraph`."
            )
        return self.client

    def _validate_sync_client(self) -> Any:
        if self.sync_client is None:
            raise ValueError(
                "Sync client is not initialized: please provide `url` or `sync_client` when initializing `RemoteGraph`."
            )
        return self.sync_client

    def get_name(self, suffix: str | None = None) -> str:
        name = self.name or self.assistant_id
        return name + suffix if suffix else name

    def copy(self, update: dict[str, Any]) -> RemoteGraph:
        """A copy with ``update``'s attributes replaced."""
        attrs = {**self.__dict__, **update}
        return type(self)(attrs.pop("assistant_id"), **attrs)

    def with_config(self, config: Any = None, **kwargs: Any) -> RemoteGraph:
        """A copy whose calls run with ``config`` (and ``kwargs`` as config keys) merged in."""
        return self.copy({"config": merge_configs(self.config, config, kwargs)})

    def _merged(self, config: Any) -> dict[str, Any]:
        merged = merge_configs(self.config, config)
        merged.setdefault(CONF, {})
        return merged

    def _sanitize_config(self, config: Any) -> dict[str, Any]:
        """What of a config the server gets: the recursion limit, string tags, and the
        metadata and ``configurable`` values a request can carry (not the caller's own
        checkpoint coordinates)."""
        out: dict[str, Any] = {}
        if "recursion_limit" in config:
            out["recursion_limit"] = config["recursion_limit"]
        if "tags" in config:
            out["tags"] = [tag for tag in config["tags"] if isinstance(tag, str)]
        if "metadata" in config:
            out["metadata"] = {
                k: clean
                for k, v in config["metadata"].items()
                if isinstance(k, str) and (clean := _sanitize_config_value(v)) is not None
            }
        if CONF in config:
            out[CONF] = {
                k: clean
                for k, v in config[CONF].items()
                if isinstance(k, str) and k not in _CONF_DROPLIST and (clean := _sanitize_config_value(v)) is not None
            }
        return out

    def _reject_v3_unsupported(
        self, *, control: Any, transformers: Any, interrupt_before: Any, interrupt_after: Any, extra_kwargs: dict[str, Any]
    ) -> None:
        """``stream_events(version="v3")`` can't honour these on a server: refuse them."""
        for name, value in (
            ("control", control),
            ("transformers", transformers),
            ("interrupt_before", interrupt_before),
            ("interrupt_after", interrupt_after),
        ):
            if value:
                raise NotImplementedError(f"RemoteGraph.stream_events(version='v3') does not support `{name}=`.")
        unknown = set(extra_kwargs) - _V3_SUPPORTED_KWARGS
        if unknown:
            raise NotImplementedError(
                "RemoteGraph.stream_events(version='v3') does not support the following kwargs: "
                f"{sorted(unknown)!r}. Supported: {sorted(_V3_SUPPORTED_KWARGS)!r}."
            )

    # -- graph -------------------------------------------------------------------------
    def get_graph(
        self, config: Any = None, *, xray: int | bool = False, headers: dict[str, str] | None = None, params: Any = None
    ) -> Any:
        """The deployed graph's drawing (``GET /assistants/{id}/graph``); ``xray`` includes
        subgraphs (an int: that many levels)."""
        graph = self._validate_sync_client().assistants.get_graph(
            assistant_id=self.assistant_id, xray=xray, headers=headers, params=params
        )
        return _drawable(graph)

    async def aget_graph(
        self, config: Any = None, *, xray: int | bool = False, headers: dict[str, str] | None = None, params: Any = None
    ) -> Any:
        """Async twin of ``get_graph``."""
        graph = await self._validate_client().assistants.get_graph(
            assistant_id=self.assistant_id, xray=xray, headers=headers, params=params
        )
        return _drawable(graph)

    # -- state -------------------------------------------------------------------------
    def get_state(
        self, config: Any, *, subgraphs: bool = False, headers: dict[str, str] | None = None, params: Any = None
    ) -> StateSnapshot:
        """The thread's state (at the checkpoint the config names, if any)."""
        merged = self._merged(config)
        state = self._validate_sync_client().threads.get_state(
            thread_id=merged[CONF]["thread_id"],
            checkpoint=_checkpoint(merged),
            subgraphs=subgraphs,
            headers=headers,
            params=params,
        )
        return _snapshot(state)

    async def aget_state(
        self, config: Any, *, subgraphs: bool = False, headers: dict[str, str] | None = None, params: Any = None
    ) -> StateSnapshot:
        """Async twin of ``get_state``."""
        merged = self._merged(config)
        state = await self._validate_client().threads.get_state(
            thread_id=merged[CONF]["thread_id"],
            checkpoint=_checkpoint(merged),
            subgraphs=subgraphs,
            headers=headers,
            params=params,
        )
        return _snapshot(state)

    def get_state_history(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
        headers: dict[str, str] | None = None,
        params: Any = None,
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints, newest first (10 unless ``limit`` says otherwise)."""
        merged = self._merged(config)
        states = self._validate_sync_client().threads.get_history(
            thread_id=merged[CONF]["thread_id"],
            limit=limit if limit else 10,
            before=_checkpoint(before),
            metadata=filter,
            checkpoint=_checkpoint(merged),
            headers=headers,
            params=params,
        )
        for state in states:
            yield _snapshot(state)

    async def aget_state_history(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
        headers: dict[str, str] | None = None,
        params: Any = None,
    ) -> AsyncIterator[StateSnapshot]:
        """Async twin of ``get_state_history``."""
        merged = self._merged(config)
        states = await self._validate_client().threads.get_history(
            thread_id=merged[CONF]["thread_id"],
            limit=limit if limit else 10,
            before=_checkpoint(before),
            metadata=filter,
            checkpoint=_checkpoint(merged),
            headers=headers,
            params=params,
        )
        for state in states:
            yield _snapshot(state)

    def update_state(
        self,
        config: Any,
        values: Any,
        as_node: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        params: Any = None,
    ) -> dict[str, Any]:
        """Save ``values`` on the thread as if ``as_node`` returned them; the new
        checkpoint's config."""
        merged = self._merged(config)
        response = self._validate_sync_client().threads.update_state(
            thread_id=merged[CONF]["thread_id"],
            values=values,
            as_node=as_node,
            checkpoint=_checkpoint(merged),
            headers=headers,
            params=params,
        )
        return _config_of(response["checkpoint"])

    async def aupdate_state(
        self,
        config: Any,
        values: Any,
        as_node: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        params: Any = None,
    ) -> dict[str, Any]:
        """Async twin of ``update_state``."""
        merged = self._merged(config)
        response = await self._validate_client().threads.update_state(
            thread_id=merged[CONF]["thread_id"],
            values=values,
            as_node=as_node,
            checkpoint=_checkpoint(merged),
            headers=headers,
            params=params,
        )
        return _config_of(response["checkpoint"])

    def bulk_update_state(self, config: Any, supersteps: Sequence[Any]) -> Any:
        raise NotImplementedError("RemoteGraph can't bulk-update a thread: call update_state per update")

    async def abulk_update_state(self, config: Any, supersteps: Sequence[Any]) -> Any:
        raise NotImplementedError("RemoteGraph can't bulk-update a thread: call aupdate_state per update")

    # -- runs --------------------------------------------------------------------------
    def _request(
        self,
        input: Any,
        config: Any,
        context: Any,
        stream_mode: Any,
        interrupt_before: Any,
        interrupt_after: Any,
        subgraphs: bool,
        headers: Any,
        params: Any,
        version: str,
        kwargs: dict[str, Any],
    ) -> tuple[dict[str, Any], _ChunkReader]:
        """The ``runs.stream`` arguments of a call, and the reader of its chunks."""
        sanitized = self._sanitize_config(self._merged(config))
        stream = _parent_stream(config)
        reader = _ChunkReader(stream_mode, config, stream, subgraphs, version)
        command = None
        if isinstance(input, Command):
            command = dataclasses.asdict(input)
            input = None
        thread_id = sanitized.get(CONF, {}).pop("thread_id", None)
        request = {
            "thread_id": thread_id,
            "assistant_id": self.assistant_id,
            "input": input,
            "command": command,
            "config": sanitized,
            "context": context,
            "stream_mode": reader.wire_modes,
            "interrupt_before": interrupt_before,
            "interrupt_after": interrupt_after,
            "stream_subgraphs": subgraphs or stream is not None,
            "if_not_exists": "create",
            "headers": _merge_tracing_headers(headers) if self.distributed_tracing else headers,
            "params": params,
            **kwargs,
        }
        return request, reader

    def stream(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        subgraphs: bool = False,
        headers: dict[str, str] | None = None,
        params: Any = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph on the server (on the config's thread, created if needed) and
        yield its stream as a local graph's would. ``stream_mode`` defaults to
        ``updates``; other keyword arguments go to the SDK's ``runs.stream``."""
        sync_client = self._validate_sync_client()
        request, reader = self._request(
            input, config, context, stream_mode, interrupt_before, interrupt_after, subgraphs, headers, params, version, kwargs
        )
        for chunk in sync_client.runs.stream(**request):
            out = reader.read(chunk)
            if out is not _SKIP:
                yield out

    async def astream(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        subgraphs: bool = False,
        headers: dict[str, str] | None = None,
        params: Any = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async twin of ``stream``."""
        client = self._validate_client()
        request, reader = self._request(
            input, config, context, stream_mode, interrupt_before, interrupt_after, subgraphs, headers, params, version, kwargs
        )
        async for chunk in client.runs.stream(**request):
            out = reader.read(chunk)
            if out is not _SKIP:
                yield out

    def invoke(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        headers: dict[str, str] | None = None,
        params: Any = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph on the server to its end (or a pause); its final state
        (``version="v2"``: a ``GraphOutput``)."""
        last: Any = _SKIP
        for last in self.stream(
            input,
            config,
            context=context,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            headers=headers,
            stream_mode="values",
            params=params,
            version=version,
            **kwargs,
        ):
            pass
        return _final(last, version)

    async def ainvoke(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        headers: dict[str, str] | None = None,
        params: Any = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Async twin of ``invoke``."""
        last: Any = _SKIP
        async for last in self.astream(
            input,
            config,
            context=context,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            headers=headers,
            stream_mode="values",
            params=params,
            version=version,
            **kwargs,
        ):
            pass
        return _final(last, version)

    # -- v3 event streams --------------------------------------------------------------
    def _v3_thread(self, client: Any, config: Any, headers: Any) -> tuple[Any, dict[str, Any]]:
        sanitized = self._sanitize_config(self._merged(config))
        thread_id = sanitized.get(CONF, {}).pop("thread_id", None)
        sdk_thread = client.threads.stream(
            thread_id=thread_id,
            assistant_id=self.assistant_id,
            headers=_merge_tracing_headers(headers) if self.distributed_tracing else headers,
        )
        return sdk_thread, sanitized

    def stream_events(
        self,
        input: Any,
        config: Any = None,
        *,
        version: str = "v2",
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        control: Any = None,
        transformers: Sequence[Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``version="v3"``: a run stream (``with ... as run``) over the server's v3
        event stream (see ``_remote_run_stream``); only ``metadata`` and ``headers`` may
        be passed besides the input and config."""
        if version != "v3":
            raise NotImplementedError(
                f"RemoteGraph.stream_events(version={version!r}) is not implemented; use stream() "
                "or version='v3'."
            )
        self._reject_v3_unsupported(
            control=control,
            transformers=transformers,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            extra_kwargs=kwargs,
        )
        sync_client = self._validate_sync_client()
        input = _checked_v3_input(input)
        sdk_thread, sanitized = self._v3_thread(sync_client, config, headers)
        return _RemoteGraphRunStream(
            sync_client=sync_client, sdk_thread=sdk_thread, input=input, config=sanitized, metadata=kwargs.get("metadata")
        )

    async def astream_events(
        self,
        input: Any,
        config: Any = None,
        *,
        version: str = "v2",
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        control: Any = None,
        transformers: Sequence[Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``version="v3"``: awaits to an async run stream (``async with await ... as
        run``); LangChain's event versions ``v1``/``v2`` aren't available remotely."""
        if version != "v3":
            raise NotImplementedError(
                f"RemoteGraph.astream_events(version={version!r}) is not implemented; use astream() "
                "for v1/v2 streaming or version='v3'."
            )
        self._reject_v3_unsupported(
            control=control,
            transformers=transformers,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            extra_kwargs=kwargs,
        )
        client = self._validate_client()
        input = _checked_v3_input(input)
        sdk_thread, sanitized = self._v3_thread(client, config, headers)
        return _AsyncRemoteGraphRunStream(
            client=client, sdk_thread=sdk_thread, input=input, config=sanitized, metadata=kwargs.get("metadata")
        )


def _checked_v3_input(input: Any) -> Any:
    """Refuse a Command v3 can't carry before anything is sent (the run stream maps the
    rest when it starts)."""
    from actorgraph.pregel._remote_run_stream import _translate_command_input

    _translate_command_input(input)
    return input


class _Skip:
    __slots__ = ()


_SKIP: Any = _Skip()


class _ChunkReader:
    """Turns the server's stream parts into what the caller asked for: the wire asks for
    ``updates`` too (interrupts come in it) and ``messages-tuple`` for ``messages``;
    namespaces get the caller's prefix; events go on to a parent stream; interrupts
    raise in a subgraph, errors always, a parent ``Command`` goes up."""

    __slots__ = ("requested", "single", "wire_modes", "config", "stream", "subgraphs", "version", "caller_ns")

    def __init__(self, stream_mode: Any, config: Any, stream: Any, subgraphs: bool, version: str) -> None:
        if not stream_mode:
            wire, single = ["updates"], True
        elif isinstance(stream_mode, str):
            wire, single = [stream_mode], True
        else:
            wire, single = list(stream_mode), False
        requested = ["messages" if m == "messages-tuple" else m for m in wire]
        if stream is not None:
            wire.extend(stream.modes)
        if "messages" in wire:
            wire = [m for m in wire if m != "messages"] + ["messages-tuple"]
        if "updates" not in wire:
            wire.append("updates")
        self.wire_modes = [m for m in wire if m != "events"]
        self.requested = requested
        self.single = single
        self.stream = stream
        self.subgraphs = subgraphs
        self.version = version
        caller = ((config or {}).get(CONF) or {}).get(CONFIG_KEY_CHECKPOINT_NS)
        self.caller_ns: tuple[str, ...] = tuple(caller.split(NS_SEP)) if caller else ()

    def read(self, chunk: Any) -> Any:
        event: str = chunk.event
        if NS_SEP in event:
            mode, rest = event.split(NS_SEP, 1)
            ns: tuple[str, ...] = tuple(rest.split(NS_SEP))
        else:
            mode, ns = event, ()
        data = chunk.data
        if mode == "command" and isinstance(data, dict) and data.get("graph") == Command.PARENT:
            raise ParentCommand(Command(**data))
        ns = self.caller_ns + ns
        stream = self.stream
        if stream is not None and mode in stream.modes:
            stream((ns, mode, data))
        if mode == "updates":
            if self.caller_ns and isinstance(data, dict) and INTERRUPT in data:
                raise GraphInterrupt([_interrupt(i) for i in data[INTERRUPT]])
        elif mode == "error":
            raise RemoteException(data)
        if mode not in self.requested:
            return _SKIP
        # subgraph events asked for only on the parent's behalf stay there (messages
        # excepted: the server streams each message once, whatever its namespace)
        if not self.subgraphs and NS_SEP in event and mode != "messages":
            return _SKIP
        if mode == "messages":
            chunk = chunk._replace(data=tuple(data))
            data = chunk.data
        if self.version == "v2":
            interrupts: tuple[Any, ...] = ()
            if mode == "values" and isinstance(data, dict):
                interrupts = tuple(_interrupt(i) if isinstance(i, dict) else i for i in data.pop(INTERRUPT, ()))
            return {"type": mode, "ns": ns, "data": data, "interrupts": interrupts}
        if self.subgraphs:
            return (ns, data) if self.single else (ns, mode, data)
        return data if self.single else chunk


def _interrupt(payload: dict[str, Any]) -> Interrupt:
    """An ``Interrupt`` from the server's JSON (fields older servers add are ignored)."""
    return Interrupt(
        value=payload.get("value"),
        id=payload.get("id") or payload.get("interrupt_id") or "placeholder-id",
        response_schema=payload.get("response_schema"),
    )


def _final(last: Any, version: str) -> Any:
    if last is _SKIP:
        _log.warning("No events received from remote graph")
        return None
    if version == "v2":
        return GraphOutput(value=last["data"], interrupts=tuple(last.get("interrupts", ())))
    return last


def _checkpoint(config: Any) -> dict[str, Any] | None:
    """The SDK's checkpoint of a config: whichever of its coordinates it has."""
    if config is None:
        return None
    conf = config.get(CONF) or {}
    out = {k: conf[k] for k in ("thread_id", "checkpoint_ns", "checkpoint_id", "checkpoint_map") if k in conf}
    return out or None


def _config_of(checkpoint: dict[str, Any]) -> Any:
    return {
        CONF: {
            "thread_id": checkpoint["thread_id"],
            "checkpoint_ns": checkpoint["checkpoint_ns"],
            "checkpoint_id": checkpoint["checkpoint_id"],
            "checkpoint_map": checkpoint.get("checkpoint_map", {}),
        }
    }


def _snapshot(state: dict[str, Any]) -> StateSnapshot:
    """A ``StateSnapshot`` from the server's thread state."""
    tasks = []
    for task in state["tasks"]:
        interrupts = tuple(_interrupt(i) for i in task["interrupts"])
        if task["state"]:
            sub: Any = _snapshot(task["state"])
        elif task["checkpoint"]:
            sub = {CONF: task["checkpoint"]}
        else:
            sub = None
        tasks.append(
            PregelTask(
                id=task["id"],
                name=task["name"],
                path=(),
                error=Exception(task["error"]) if task["error"] else None,
                interrupts=interrupts,
                state=sub,
                result=task.get("result"),
            )
        )
    parent = state["parent_checkpoint"]
    return StateSnapshot(
        values=state["values"],
        next=tuple(state["next"]) if state["next"] else (),
        config=_config_of(state["checkpoint"]),
        metadata=dict(state["metadata"]),
        created_at=state["created_at"],
        parent_config=_config_of(parent) if parent else None,
        tasks=tuple(tasks),
        interrupts=tuple(i for t in tasks for i in t.interrupts),
    )


def _drawable(graph: dict[str, Any]) -> Any:
    """The server's graph JSON as a drawable ``Graph`` (a node's name: its ``name``, else
    its data's ``name``, else its id)."""
    from actorgraph.draw._drawable import Edge, Graph, Node

    nodes = {}
    for node in graph["nodes"]:
        node_id = str(node["id"])
        data = node.get("data", {})
        name = node.get("name")
        if name is None:
            name = data.get("name", node_id) if isinstance(data, dict) else node_id
        nodes[node_id] = Node(id=node_id, name=name, data=data, metadata=node.get("metadata"))
    return Graph(nodes=nodes, edges=[Edge(**edge) for edge in graph["edges"]])


def _merge_tracing_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    """``headers`` plus the current LangSmith run's tracing headers (if a run is being
    traced), so the server's trace continues it."""
    import langsmith

    run = langsmith.get_current_run_tree()
    if run is None:
        return headers
    tracing = run.to_headers()
    if not headers:
        return tracing
    if "baggage" in headers and "baggage" in tracing:
        tracing["baggage"] = f"{headers['baggage']},{tracing['baggage']}"
    headers.update(tracing)
    return headers
