"""Stream events of a graph run's steps, as LangGraph emits them: ``values``, ``updates``,
``tasks``, ``checkpoints`` and ``debug`` chunks. The barrier says what happened (a result
came in, a checkpoint was taken, a step started its tasks); this module formats it for
the run's stream sink, and does nothing for a mode nobody streams.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actorgraph._constants import INTERRUPT
from actorgraph.actors._ids import now_iso, subgraph_namespace
from actorgraph.actors._messages import TaskResult, TaskSpec
from actorgraph.actors._stream import task_metadata, task_result_view
from actorgraph.persistence._model import decode_metadata

if TYPE_CHECKING:
    from actorgraph.actors._run import RunState
    from actorgraph.actors._step import StepState
    from actorgraph.persistence._model import CheckpointRow

__all__ = ("StepEvents", "task_retry", "update_view")


def update_view(writes: list[tuple[str, Any]], keys: frozenset[str], single: str | None = None) -> Any:
    """A task's writes as the ``updates`` stream shows them: ``{key: value}``, or a list of
    one-key dicts when the task wrote a key more than once; ``None`` when it wrote no
    state key. With a single output channel (the functional API), the bare value."""
    if single is not None:
        values = [value for chan, value in writes if chan == single]
        if not values:
            return None
        return values[0] if len(values) == 1 else values  # several updates: all of them
    out: dict[str, Any] = {}
    repeated = False
    for chan, value in writes:
        if chan in keys:
            if chan in out:
                repeated = True
            out[chan] = value
    if repeated:
        return [{c: v} for c, v in writes if c in keys]
    return out or None


_UNSET: Any = object()


def _interrupt_dict(i: Any) -> dict[str, Any]:
    return {"value": i.value, "id": i.id, "response_schema": i.response_schema}


class StepEvents:
    """Formats one run's step events for its stream sink."""

    __slots__ = ("run", "cfg", "program", "state")

    def __init__(self, run: RunState, state: StepState) -> None:
        self.run = run
        self.cfg = run.cfg
        self.program = run.cfg.program
        self.state = state

    def values(self, written: set[str]) -> None:
        """The state after a step (or the input) that wrote ``written``."""
        cfg = self.cfg
        if cfg.sink.wants("values", cfg.stream_ns) and not self.program.stream_key_set.isdisjoint(written):
            cfg.sink.emit(cfg.stream_ns, "values", self.state.stream_values())

    def result(self, r: TaskResult) -> None:
        """A task's result: its update (or its interrupts), and its task-result event."""
        if r.paused:
            if r.interrupts:
                self.interrupts(r.interrupts)
        else:
            cfg = self.cfg
            sink = cfg.sink
            ns = cfg.stream_ns
            if sink.wants("updates", ns):
                program = self.program
                chunk = {r.task.name: update_view(r.writes, program.stream_key_set, program.stream_single)}
                if r.cached:
                    chunk["__metadata__"] = {"cached": True}
                sink.emit(ns, "updates", chunk)
        if not r.cached:
            # a task whose writes were saved before (or cached) reports them, but it
            # didn't run: no result event
            self.task_result(r)

    def interrupts(self, interrupts: tuple[Any, ...]) -> None:
        cfg = self.cfg
        sink = cfg.sink
        ns = cfg.stream_ns
        if sink.wants("updates", ns):
            sink.emit(ns, "updates", {INTERRUPT: tuple(interrupts)})
        if sink.wants("values", ns):
            values = self.state.stream_values()
            # merged into the state when it is a dict; alone otherwise (an entrypoint's value)
            chunk = {**values, INTERRUPT: tuple(interrupts)} if isinstance(values, dict) else {INTERRUPT: tuple(interrupts)}
            sink.emit(ns, "values", chunk)

    def checkpoint(
        self,
        row: CheckpointRow,
        tasks: list[TaskSpec],
        metadata: Any = None,
        pending: dict[str, Any] | None = None,
    ) -> None:
        """A checkpoint event: one just saved, or (``metadata`` and ``pending`` given) the
        saved one a run continues, with what its tasks left (errors, interrupts, results)."""
        cfg = self.cfg
        run = self.run
        sink = cfg.sink
        ns = cfg.stream_ns
        if not (sink.wants("checkpoints", ns) or sink.wants("debug", ns)):
            return
        persistence = run.persistence
        assert persistence is not None
        thread = persistence.thread
        conf: dict[str, Any] = {"checkpoint_ns": row.ns, "thread_id": thread, "checkpoint_id": row.checkpoint_id}
        parent_id = row.parent_id
        if metadata is None and persistence.durability == "exit":
            # not saved until the run ends: as LangGraph, its parent is the one of the
            # last checkpoint saved
            parent_id = persistence.builder.base_parent
        parent_conf: dict[str, Any] | None = (
            {"checkpoint_ns": row.ns, "thread_id": thread, "checkpoint_id": parent_id} if parent_id else None
        )
        if row.ns:
            # a subgraph's checkpoint: which checkpoint of each enclosing graph it belongs to
            conf["checkpoint_map"] = {**run.resume.parent_checkpoints, row.ns: row.checkpoint_id}
            if parent_conf is not None:
                parent_conf["checkpoint_map"] = {**run.resume.parent_checkpoints, row.ns: parent_id}
        parent = {"configurable": parent_conf} if parent_conf is not None else None
        payload = {
            "config": {"configurable": conf},
            "parent_config": parent,
            "values": self.state.stream_values(),
            "metadata": dict(metadata) if metadata is not None else decode_metadata(row.metadata),
            "next": [t.name for t in tasks],
            "tasks": [self._checkpoint_task(row, t, pending) for t in tasks],
        }
        if sink.wants("checkpoints", ns):
            sink.emit(ns, "checkpoints", payload)
        if sink.wants("debug", ns):
            sink.emit(ns, "debug", {"step": row.step, "timestamp": row.created_at, "type": "checkpoint", "payload": payload})

    def _checkpoint_task(self, row: CheckpointRow, t: TaskSpec, pending: dict[str, Any] | None) -> dict[str, Any]:
        """A task of a checkpoint event, with what it left if the checkpoint is continued."""
        state = self._task_state(row, t)
        entry = pending.get(t.id) if pending else None
        if entry is None:
            return {"id": t.id, "name": t.name, "interrupts": (), "state": state}
        if entry["error"]:
            return {"id": t.id, "name": t.name, "error": entry["error"], "state": state}
        out: dict[str, Any] = {"id": t.id, "name": t.name}
        if entry["done"]:
            result = {c: v for c, v in entry["writes"] if c in self.program.stream_key_set}
            if result:
                out["result"] = result
        out["interrupts"] = tuple(_interrupt_dict(i) for i in entry["interrupts"])
        out["state"] = state
        return out

    def _task_state(self, row: CheckpointRow, task: TaskSpec) -> Any:
        """Where a task's subgraph keeps its state (``None`` for a task without one)."""
        graph = self.program.nodes[task.name].subgraph
        if graph is None:
            return None
        ns = subgraph_namespace(row.ns, task.name, task.id, graph.program.checkpointer is True)
        return {"configurable": {"thread_id": row.thread_id, "checkpoint_ns": ns}}

    def task_start(self, spec: TaskSpec, metadata: dict[str, Any]) -> None:
        """A task start event; ``metadata``: the task metadata by node, made once per step."""
        payload: dict[str, Any] = {"id": spec.id, "name": spec.name, "input": spec.input, "triggers": spec.triggers}
        md = metadata.get(spec.name, _UNSET)
        if md is _UNSET:
            node = self.program.nodes.get(spec.name)
            md = metadata[spec.name] = task_metadata(
                self.cfg.config, getattr(node, "metadata", None), getattr(node, "tags", None)
            )
        if md:
            payload["metadata"] = dict(md)
        self._task_event("task", payload)

    def task_result(self, r: TaskResult) -> None:
        cfg = self.cfg
        sink = cfg.sink
        ns = cfg.stream_ns
        if not (sink.wants("tasks", ns) or sink.wants("debug", ns)):
            return
        program = self.program
        if r.call:
            update = dict(r.writes)  # a task call: {"__return__": value}
        elif program.stream_single is not None:
            # an entrypoint: its output channel
            update = {c: v for c, v in r.writes if c == program.stream_single}
        else:
            if program.nodes[r.task.name].hidden:
                return
            update = task_result_view(r.writes, program.stream_key_set)
        payload = {
            "id": r.task.id,
            "name": r.task.name,
            "error": r.error,
            "result": update if update is not None else {},
            "interrupts": [_interrupt_dict(i) for i in r.interrupts],
        }
        self._task_event("task_result", payload)

    def _task_event(self, kind: str, payload: dict[str, Any]) -> None:
        cfg = self.cfg
        sink = cfg.sink
        ns = cfg.stream_ns
        if sink.wants("tasks", ns):
            sink.emit(ns, "tasks", payload)
        if sink.wants("debug", ns):
            sink.emit(ns, "debug", {"step": self.state.step, "timestamp": now_iso(), "type": kind, "payload": payload})


def task_retry(run: RunState, spec: TaskSpec, attempt: int, exc: BaseException, delay: float) -> None:
    """A failed attempt that will be retried (``debug`` only)."""
    cfg = run.cfg
    if cfg.sink.wants("debug", cfg.stream_ns):
        payload = {"id": spec.id, "name": spec.name, "attempt": attempt, "error": exc, "retry_in": delay}
        cfg.sink.emit(cfg.stream_ns, "debug", {"step": spec.step, "timestamp": now_iso(), "type": "task_retry", "payload": payload})
