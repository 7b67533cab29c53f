"""Subgraph discovery from the ``tasks`` stream: ``LifecycleTransformer`` (``run.lifecycle``
payloads, also forwarded as ``lifecycle`` protocol events) and ``SubgraphTransformer``
(``run.subgraphs``: a navigable handle per direct child subgraph).

A subgraph is seen when the first task event arrives from a namespace below the scope:
its last segment is ``<node>:<task id>``, the id of the parent task that runs it. It ends
when that parent task's result arrives (completed, failed or interrupted), or when the
run ends (completed) or fails. Both transformers keep ``tasks`` events out of the main
event log: the lifecycle view replaces them.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from typing_extensions import NotRequired, TypedDict

from actorgraph.errors import GraphInterrupt
from actorgraph.stream._channel import StreamChannel
from actorgraph.stream._mux import StreamMux
from actorgraph.stream._run_stream import AsyncSubgraphRunStream, SubgraphRunStream
from actorgraph.stream._types import ProtocolEvent, StreamTransformer

__all__ = (
    "LifecycleCause",
    "LifecyclePayload",
    "LifecycleTransformer",
    "SubgraphStatus",
    "SubgraphTransformer",
)

_log = logging.getLogger("actorgraph.stream")

SubgraphStatus = Literal["started", "completed", "failed", "interrupted", "drained"]


class LifecycleCause(TypedDict):
    """Why a subagent started: the tool call that ran it."""

    type: Literal["toolCall"]
    tool_call_id: str


class LifecyclePayload(TypedDict, total=False):
    """One ``run.lifecycle`` item (and ``lifecycle`` protocol event)."""

    event: SubgraphStatus
    namespace: list[str]
    graph_name: NotRequired[str]
    trigger_call_id: NotRequired[str]
    cause: NotRequired[LifecycleCause]
    error: NotRequired[str]


def _split_segment(segment: str) -> tuple[str, str | None]:
    """``"node:task_id"`` -> ``("node", "task_id")``; no colon -> ``(segment, None)``."""
    name, sep, task_id = segment.partition(":")
    return name, (task_id if sep else None)


def _status_from_exception(err: BaseException) -> tuple[SubgraphStatus, str | None]:
    if type(err).__name__ == "GraphDrained":
        return "drained", None
    if isinstance(err, GraphInterrupt):
        return "interrupted", None
    return "failed", str(err)


def _status_from_result(data: dict[str, Any]) -> tuple[SubgraphStatus, str | None]:
    # an interrupt wins over an error: a paused subgraph shows as interrupts, not an error
    if data.get("interrupts"):
        return "interrupted", None
    error = data.get("error")
    if error:
        return "failed", str(error)
    return "completed", None


def _tool_call_id(data: dict[str, Any]) -> str | None:
    """The LLM tool call a task runs, from its input: a ``tool_call_with_context`` dict,
    or (older, batched) a list of tool-call dicts (the first one)."""
    payload = data.get("input")
    if isinstance(payload, dict):
        call = payload.get("tool_call")
        if isinstance(call, dict) and isinstance(call.get("id"), str):
            return call["id"]
    elif isinstance(payload, list):
        for call in payload:
            if isinstance(call, dict) and isinstance(call.get("id"), str):
                return call["id"]
    return None


class _TasksLifecycleBase(StreamTransformer):
    """Shared discovery rules; subclasses say which namespaces they track
    (``_should_track``) and what happens when one starts (``_on_started``; its cause, if
    any, is in ``self._pending_cause``) and ends (``_on_terminal``)."""

    required_stream_modes = ("tasks",)

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._seen: set[tuple[str, ...]] = set()
        # tracked namespace -> id of the parent task whose result ends it
        self._open: dict[tuple[str, ...], str] = {}
        # lc_agent_name first seen at each namespace (for transformers that name subagents)
        self._lc_by_ns: dict[tuple[str, ...], str | None] = {}
        # task id -> id of the LLM tool call the task runs
        self._pending_tool_calls: dict[str, str] = {}
        self._pending_cause: LifecycleCause | None = None

    def _should_track(self, ns: tuple[str, ...]) -> bool:
        raise NotImplementedError

    def _on_started(self, ns: tuple[str, ...], graph_name: str | None, trigger_call_id: str | None) -> None:
        raise NotImplementedError

    def _on_terminal(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        raise NotImplementedError

    def process(self, event: ProtocolEvent) -> bool:
        if event["method"] != "tasks":
            return True
        ns = tuple(event["params"]["namespace"])
        data = event["params"]["data"]
        if "result" in data:
            for child, status, error in self._pop_terminal_transitions(ns, data):
                self._on_terminal(child, status, error)
        else:
            self._note_task_start(ns, data)
            self._handle_task_start(ns, data)
        return False

    def _note_task_start(self, ns: tuple[str, ...], data: dict[str, Any]) -> None:
        if ns not in self._lc_by_ns:
            self._lc_by_ns[ns] = (data.get("metadata") or {}).get("lc_agent_name")
        task_id = data.get("id")
        if isinstance(task_id, str):
            call_id = _tool_call_id(data)
            if call_id is not None:
                self._pending_tool_calls[task_id] = call_id

    def _handle_task_start(self, ns: tuple[str, ...], data: dict[str, Any]) -> None:
        if ns in self._seen or not self._should_track(ns):
            return
        self._seen.add(ns)
        parsed_name, trigger_call_id = _split_segment(ns[-1])
        agent = (data.get("metadata") or {}).get("lc_agent_name")
        # a nested run that carries an agent name is a subagent: named after the agent,
        # and caused by the tool call of the parent task that runs it
        cause: LifecycleCause | None = None
        if agent is not None and trigger_call_id is not None:
            call_id = self._pending_tool_calls.get(trigger_call_id)
            if call_id:
                cause = {"type": "toolCall", "tool_call_id": str(call_id)}
        self._pending_cause = cause
        self._on_started(ns, agent if agent is not None else (parsed_name or None), trigger_call_id)
        if trigger_call_id is not None:
            self._open[ns] = trigger_call_id

    def _pop_terminal_transitions(
        self, ns: tuple[str, ...], data: dict[str, Any]
    ) -> list[tuple[tuple[str, ...], SubgraphStatus, str | None]]:
        """The tracked children this task result ends (removed from the open set)."""
        result_id = data.get("id")
        if not result_id:
            return []
        ended = []
        for child, parent_task in list(self._open.items()):
            if parent_task == result_id and child[:-1] == ns:
                status, error = _status_from_result(data)
                ended.append((child, status, error))
                del self._open[child]
        return ended

    def finalize(self) -> None:
        for ns in list(self._open):
            self._on_terminal(ns, "completed", None)
        self._open.clear()

    def fail(self, err: BaseException) -> None:
        status, error = _status_from_exception(err)
        for ns in list(self._open):
            self._on_terminal(ns, status, error)
        self._open.clear()


class LifecycleTransformer(_TasksLifecycleBase):
    """``run.lifecycle``: a ``started`` and a terminal payload for every subgraph at any
    depth below the scope, forwarded into the main log as ``lifecycle`` events."""

    _native = True

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._channel: StreamChannel[LifecyclePayload] = StreamChannel("lifecycle")

    def init(self) -> dict[str, Any]:
        return {"lifecycle": self._channel}

    def _should_track(self, ns: tuple[str, ...]) -> bool:
        depth = len(self.scope)
        return len(ns) > depth and ns[:depth] == self.scope

    def _on_started(self, ns: tuple[str, ...], graph_name: str | None, trigger_call_id: str | None) -> None:
        if trigger_call_id is None:
            return  # no parent task id: nothing would close it; finalize/fail do
        payload: LifecyclePayload = {"event": "started", "namespace": list(ns)}
        if graph_name:
            payload["graph_name"] = graph_name
        payload["trigger_call_id"] = trigger_call_id
        if self._pending_cause is not None:
            payload["cause"] = self._pending_cause
        self._channel.push(payload)

    def _on_terminal(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        payload: LifecyclePayload = {"event": status, "namespace": list(ns)}
        if error is not None:
            payload["error"] = error
        self._channel.push(payload)


class SubgraphTransformer(_TasksLifecycleBase):
    """``run.subgraphs``: a ``SubgraphRunStream`` per direct child subgraph, with its own
    projections (a child mux built from the run's transformer factories). The events of
    a child's namespace (and below) are forwarded to its mux; grandchildren show on the
    child handle's own ``subgraphs``."""

    _native = True
    supports_sync = True

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        super().__init__(scope)
        self._log: StreamChannel[Any] = StreamChannel()
        self._handles: dict[tuple[str, ...], Any] = {}
        self._mux: StreamMux | None = None

    def init(self) -> dict[str, Any]:
        return {"subgraphs": self._log}

    def _on_register(self, mux: Any) -> None:
        self._mux = mux

    def _should_track(self, ns: tuple[str, ...]) -> bool:
        depth = len(self.scope)
        return len(ns) == depth + 1 and ns[:depth] == self.scope

    def _on_started(self, ns: tuple[str, ...], graph_name: str | None, trigger_call_id: str | None) -> None:
        if self._mux is None:
            return
        try:
            child = self._mux._make_child(ns)
        except RuntimeError:
            return  # a mux of ready-made transformers can't have children
        cls = AsyncSubgraphRunStream if child.is_async else SubgraphRunStream
        handle = cls(child, path=ns, graph_name=graph_name, trigger_call_id=trigger_call_id)
        self._handles[ns] = handle
        self._log.push(handle)

    @staticmethod
    def _mark_terminal(handle: Any, status: SubgraphStatus, error: str | None) -> bool:
        """Record the end of ``handle`` once; True the first time."""
        if handle._seen_terminal:
            return False
        handle.status = status
        if error is not None and handle.error is None:
            handle.error = error
        handle._seen_terminal = True
        return True

    def _on_terminal(self, ns: tuple[str, ...], status: SubgraphStatus, error: str | None) -> None:
        handle = self._handles.get(ns)
        if handle is not None and self._mark_terminal(handle, status, error):
            self._end(handle, status, error)

    def _end(self, handle: Any, status: SubgraphStatus, error: str | None) -> None:
        mux = handle._mux
        if mux._events._closed:
            return
        if status == "failed":
            mux.fail(RuntimeError(error or "Subgraph failed"))
        else:
            mux.close()

    async def _aend(self, handle: Any, status: SubgraphStatus, error: str | None) -> None:
        mux = handle._mux
        if mux._events._closed:
            return
        if status == "failed":
            await mux.afail(RuntimeError(error or "Subgraph failed"))
        else:
            await mux.aclose()

    def _handle_for(self, event: ProtocolEvent) -> Any:
        """The open child handle whose namespace contains this event's, if any."""
        ns = event["params"]["namespace"]
        depth = len(self.scope)
        if len(ns) <= depth:
            return None
        handle = self._handles.get(tuple(ns[: depth + 1]))
        if handle is None or handle._mux._events._closed:
            return None
        return handle

    def process(self, event: ProtocolEvent) -> bool:
        # bookkeeping first, so a child discovered by this very event gets it
        keep = super().process(event)
        handle = self._handle_for(event)
        if handle is not None:
            handle._observe_event(event)
            handle._mux.push(event)
        return keep

    async def aprocess(self, event: ProtocolEvent) -> bool:
        keep = True
        if event["method"] == "tasks":
            keep = False
            ns = tuple(event["params"]["namespace"])
            data = event["params"]["data"]
            if "result" in data:
                for child, status, error in self._pop_terminal_transitions(ns, data):
                    handle = self._handles.get(child)
                    if handle is not None and self._mark_terminal(handle, status, error):
                        await self._aend(handle, status, error)
            else:
                self._note_task_start(ns, data)
                self._handle_task_start(ns, data)
        handle = self._handle_for(event)
        if handle is not None:
            handle._observe_event(event)
            await handle._mux.apush(event)
        return keep

    def _open_handles(self) -> list[Any]:
        self._open.clear()
        return [h for h in self._handles.values() if self._mark_terminal(h, "completed", None)]

    def finalize(self) -> None:
        first: BaseException | None = None
        for handle in self._open_handles():
            try:
                self._end(handle, "completed", None)
            except BaseException as exc:
                if first is None:
                    first = exc
        if first is not None:
            raise first

    async def afinalize(self) -> None:
        first: BaseException | None = None
        for handle in self._open_handles():
            try:
                await self._aend(handle, "completed", None)
            except BaseException as exc:
                if first is None:
                    first = exc
        if first is not None:
            raise first

    def fail(self, err: BaseException) -> None:
        status, error = _status_from_exception(err)
        self._open.clear()
        for handle in self._handles.values():
            self._mark_terminal(handle, status, error)
            if not handle._mux._events._closed:
                try:
                    handle._mux.fail(err)
                except Exception:
                    _log.warning("couldn't fail the stream of subgraph %s", handle.path, exc_info=True)

    async def afail(self, err: BaseException) -> None:
        status, error = _status_from_exception(err)
        self._open.clear()
        for handle in self._handles.values():
            self._mark_terminal(handle, status, error)
            if not handle._mux._events._closed:
                try:
                    await handle._mux.afail(err)
                except Exception:
                    _log.warning("couldn't fail the stream of subgraph %s", handle.path, exc_info=True)
