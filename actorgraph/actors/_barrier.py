"""BarrierActor: owns a run's channels and closes each super-step.

It sends each active node one ``Activate`` with all of that node's tasks, collects a
``TaskDone`` per task, and when the last one is in: applies every write at once in task
order (never completion order), advances channel versions, computes the next active set
from the channels that changed, and emits stream events. A node whose trigger channels
did not change gets no message: it has voted to halt. The run ends when no node is
active and no Send is pending.

Per-step work is proportional to what the step wrote: the channels to clear between
steps are tracked as they fill, and the next active set comes from a precomputed
channel -> nodes table, never from a scan of every channel or node.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import msgspec

from actorgraph._constants import INTERRUPT, PULL, PUSH
from actorgraph.actors._ids import task_id
from actorgraph.actors._messages import Activate, Halt, SendMsg, TaskDone, TaskResult, TaskSpec
from actorgraph.actors._node import post_activate
from actorgraph.errors import (
    ErrorCode,
    GraphRecursionError,
    InvalidUpdateError,
    ParentCommand,
    create_error_message,
)

if TYPE_CHECKING:
    from actorgraph.actors._run import RunState
    from actorgraph.channels import BaseChannel

__all__ = ("BarrierActor", "BarrierStatistics")


class BarrierStatistics(msgspec.Struct, frozen=True, kw_only=True):
    step: int
    steps_closed: int
    tasks_pending: int
    mailbox_depth: int
    pending_sends: int


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _update_view(writes: list[tuple[str, Any]], keys: frozenset[str]) -> Any:
    """A task's writes as the ``updates`` stream shows them: ``{key: value}``, or a list of
    one-key dicts when the task wrote a key more than once; ``None`` when it wrote no
    state key."""
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


class BarrierActor:
    __slots__ = (
        "run",
        "program",
        "channels",
        "versions",
        "seen",
        "version",
        "state_values",
        "live_clear",
        "step",
        "pending_sends",
        "mailbox",
        "scheduled",
        "expected",
        "results",
        "interrupts",
        "output_written",
        "steps_closed",
    )

    def __init__(self, run: RunState, channels: dict[str, BaseChannel[Any, Any, Any]]) -> None:
        self.run = run
        program = self.program = run.program
        self.channels = channels
        self.versions: dict[str, int] = {}
        self.seen: dict[str, dict[str, int]] = {}
        self.version = 0
        self.state_values: dict[str, Any] = {
            k: channels[k].get() for k in program.state_keys if channels[k].is_available()
        }
        self.live_clear = {
            k for k in program.step_clear_channels if channels[k].is_available()
        }
        self.step = 0
        self.pending_sends: list[SendMsg] = []
        self.mailbox: deque[TaskDone] = deque()
        self.scheduled = False
        self.expected = 0
        self.results: list[TaskResult] = []
        self.interrupts: list[Any] = []
        self.output_written = False
        self.steps_closed = 0

    def statistics(self) -> BarrierStatistics:
        return BarrierStatistics(
            step=self.step,
            steps_closed=self.steps_closed,
            tasks_pending=self.expected,
            mailbox_depth=len(self.mailbox),
            pending_sends=len(self.pending_sends),
        )

    # -- start -------------------------------------------------------------------------
    def start(self, writes: list[tuple[str, Any]], sends: list[SendMsg]) -> None:
        """Apply the run's input (the step before the first) and activate step 0."""
        self.pending_sends = sends
        updated = self._apply_writes(writes, bump=False)
        self._advance(updated, first=True)

    # -- mailbox -----------------------------------------------------------------------
    def post(self, msg: TaskDone) -> None:
        self.mailbox.append(msg)
        if not self.scheduled:
            self.scheduled = True
            self.run.dispatcher.submit((self.turn, None, None, False))

    def turn(self, _: Any) -> Any:
        mailbox = self.mailbox
        while mailbox:
            msg = mailbox.popleft()
            match msg:
                case TaskDone(results=results):
                    for result in results:
                        self._on_result(result)
        self.scheduled = False
        if self.expected == 0 and not self.run.stopping:
            return self._close_step()
        return None

    def _on_result(self, r: TaskResult) -> None:
        run = self.run
        if run.stopping:
            return
        if run.log is not None:
            run.log.debug(
                "task.done",
                step=r.task.step,
                node=r.task.name,
                task_id=r.task.id,
                error=repr(r.error) if r.error is not None else None,
                interrupts=len(r.interrupts),
            )
        if r.error is not None:
            self._emit_task_result(r)
            run.stop_with_error(r.error)
            return
        if r.parent_command is not None:
            if run.parent is None:
                run.stop_with_error(
                    InvalidUpdateError(
                        f"Node '{r.task.name}' returned Command(graph=Command.PARENT), but graph "
                        f"'{self.program.name}' is not running as a subgraph: there is no parent "
                        "graph to send it to."
                    )
                )
            else:
                run.stop_with_error(ParentCommand(r.parent_command.command))
            return
        self.results.append(r)
        self.expected -= 1
        node = self.program.nodes[r.task.name]
        if node.hidden:
            return
        if r.interrupts:
            self.interrupts.extend(r.interrupts)
            self._emit_interrupts(r.interrupts)
        else:
            sink = run.sink
            ns = run.stream_ns
            if sink.wants("updates", ns):
                chunk = {r.task.name: _update_view(r.writes, self.program.stream_key_set)}
                if r.cached:
                    chunk["__metadata__"] = {"cached": True}
                sink.emit(ns, "updates", chunk)
        self._emit_task_result(r)

    # -- step close --------------------------------------------------------------------
    def _close_step(self) -> Any:
        run = self.run
        if self.interrupts:
            run.finish_interrupted(self.interrupts)
            return
        results = sorted(self.results, key=_order)
        self.results = []
        try:
            updated = self._apply_results(results)
        except Exception as exc:
            run.stop_with_error(exc)
            return
        self.steps_closed += 1
        log = run.log
        if log is not None:
            log.debug(
                "step.close",
                step=self.step,
                tasks=len(results),
                writes=sum(len(r.writes) for r in results),
                updated=sorted(updated),
            )
        return self._advance(updated, first=False)

    def _advance(self, updated: set[str], first: bool) -> Any:
        """Compute and activate the next step, or end the run."""
        run = self.run
        if not first:
            self.step += 1
            if self.step > run.stop:
                run.stop_with_error(
                    GraphRecursionError(
                        create_error_message(
                            message=(
                                f"Recursion limit of {run.recursion_limit} reached without "
                                "hitting a stop condition. You can increase the limit by setting "
                                "the `recursion_limit` config key, e.g. "
                                f"graph.invoke(inputs, {{'recursion_limit': {run.recursion_limit * 2}}})."
                            ),
                            error_code=ErrorCode.GRAPH_RECURSION_LIMIT,
                        )
                    )
                )
                return
        try:
            tasks = self._prepare(updated)
        except Exception as exc:
            run.stop_with_error(exc)
            return
        if not tasks:
            run.finish_ok()
            return None
        if not first and run.sink.backlog():
            return self._dispatch_when_drained(tasks)
        self._dispatch(tasks)
        return None

    async def _dispatch_when_drained(self, tasks: list[TaskSpec]) -> None:
        await self.run.sink.wait_drained()
        if not self.run.stopping:
            self._dispatch(tasks)

    def _apply_results(self, results: list[TaskResult]) -> set[str]:
        program = self.program
        versions = self.versions
        # versions each node has now seen of its triggers
        for r in results:
            t = r.task
            if t.path[0] == PULL:
                seen = self.seen.get(t.name)
                if seen is None:
                    seen = self.seen[t.name] = {}
                for c in t.triggers:
                    v = versions.get(c)
                    if v is not None:
                        seen[c] = v
        next_version = self.version + 1
        consumable = program.consumable_channels
        if consumable:
            for r in results:
                for c in r.task.triggers:
                    if c in consumable and self.channels[c].consume():
                        versions[c] = next_version
        writes: list[tuple[str, Any]] = []
        sends: list[SendMsg] = []
        for r in results:
            if r.writes:
                writes.extend(r.writes)
            if r.sends:
                sends.extend(r.sends)
        # set before applying: deferred nodes wait while Sends are pending
        self.pending_sends = sends
        try:
            return self._apply_writes(writes, bump=True)
        except InvalidUpdateError as exc:
            raise self._explain_conflict(exc, results) from None

    def _apply_writes(self, writes: list[tuple[str, Any]], bump: bool) -> set[str]:
        program = self.program
        channels = self.channels
        versions = self.versions
        self.version += 1
        v = self.version
        by_chan: dict[str, list[Any]] = {}
        for c, val in writes:
            lst = by_chan.get(c)
            if lst is None:
                by_chan[c] = [val]
            else:
                lst.append(val)
        updated: set[str] = set()
        for c, vals in by_chan.items():
            ch = channels[c]
            if ch.update(vals):
                versions[c] = v
                if ch.is_available():
                    updated.add(c)
        touched = set(by_chan)
        if bump:
            clear = program.step_clear_channels
            for c in self.live_clear:
                if c not in by_chan and channels[c].update([]):
                    versions[c] = v
                    touched.add(c)
                    if channels[c].is_available():
                        updated.add(c)
            self.live_clear = {c for c in by_chan if c in clear and channels[c].is_available()}
            if program.finish_channels and not self.pending_sends:
                triggers = program.trigger_to_nodes
                if not any(c in triggers for c in updated):
                    for c in program.finish_channels:
                        if channels[c].finish():
                            versions[c] = v
                            touched.add(c)
                            if channels[c].is_available():
                                updated.add(c)
        else:
            self.live_clear.update(c for c in by_chan if c in program.step_clear_channels)
        state_keys = program.state_key_set
        sv = self.state_values
        for c in touched:
            if c in state_keys:
                ch = channels[c]
                if ch.is_available():
                    sv[c] = ch.get()
                else:
                    sv.pop(c, None)
        if not self.output_written and not program.output_key_set.isdisjoint(by_chan):
            self.output_written = True
        run = self.run
        if run.sink.wants("values", run.stream_ns) and not program.stream_key_set.isdisjoint(by_chan):
            run.sink.emit(run.stream_ns, "values", self.stream_values())
        return updated

    def _explain_conflict(self, exc: InvalidUpdateError, results: list[TaskResult]) -> InvalidUpdateError:
        msg = str(exc)
        key = msg.split("'")[1] if msg.startswith("At key '") else None
        if key is None:
            return exc
        writers = [r.task.name for r in results if any(c == key for c, _ in r.writes)]
        if not writers:
            return exc
        names = ", ".join(f"'{w}'" for w in writers)
        return InvalidUpdateError(f"{msg}\nIn step {self.step}, key '{key}' was written by: {names}.")

    # -- next step ---------------------------------------------------------------------
    def _prepare(self, updated: set[str]) -> list[TaskSpec]:
        run = self.run
        program = self.program
        nodes = program.nodes
        step = self.step
        seed = run.task_seed(step)
        ns = run.checkpoint_ns
        tasks: list[TaskSpec] = []
        for i, send in enumerate(self.pending_sends):
            tasks.append(
                TaskSpec(
                    id=task_id(seed, ns, step, send.node, f"{PUSH}|{i}"),
                    name=send.node,
                    path=(PUSH, i),
                    order=(1, i),
                    step=step,
                    input=send.arg,
                    triggers=(PUSH,),
                    timeout=send.timeout,
                )
            )
        self.pending_sends = []
        if not updated:
            return tasks
        t2n = program.trigger_to_nodes
        candidates: set[str] = set()
        for c in updated:
            names = t2n.get(c)
            if names:
                candidates.update(names)
        if not candidates:
            return tasks
        channels = self.channels
        versions = self.versions
        full_state: dict[str, Any] | None = None
        for name in sorted(candidates):
            node = nodes[name]
            seen = self.seen.get(name)
            for c in node.triggers:
                if channels[c].is_available() and versions.get(c, 0) > (seen.get(c, 0) if seen else 0):
                    break
            else:
                continue
            if node.read_channel is not None:
                inp: Any = channels[node.read_channel].get()
            elif name in program.all_state_readers:
                if full_state is None:
                    full_state = self.state_values
                inp = dict(full_state)
            else:
                sv = self.state_values
                inp = {k: sv[k] for k in node.reads or () if k in sv}
            tasks.append(
                TaskSpec(
                    id=task_id(seed, ns, step, name, PULL),
                    name=name,
                    path=(PULL, name),
                    order=(0, name),
                    step=step,
                    input=inp,
                    triggers=node.triggers,
                )
            )
        return tasks

    def _dispatch(self, tasks: list[TaskSpec]) -> None:
        run = self.run
        self.expected = len(tasks)
        by_node: dict[str, list[TaskSpec]] = {}
        for t in tasks:
            lst = by_node.get(t.name)
            if lst is None:
                by_node[t.name] = [t]
            else:
                lst.append(t)
        sink = run.sink
        ns = run.stream_ns
        if sink.wants("tasks", ns) or sink.wants("debug", ns):
            nodes = self.program.nodes
            for t in tasks:
                if not nodes[t.name].hidden:
                    payload = {"id": t.id, "name": t.name, "input": t.input, "triggers": t.triggers}
                    self._emit_task_event("task", payload)
        inline = run.sync_call and len(tasks) == 1
        step = self.step
        for name, specs in by_node.items():
            post_activate(run.actor(name), Activate(step=step, tasks=specs, inline_sync=inline))

    def halt_all(self) -> None:
        for actor in self.run.actors.values():
            post_activate(actor, Halt())

    def fresh_state(self, writes: list[tuple[str, Any]]) -> dict[str, Any]:
        """The state as one task sees it after its own writes (for its conditional edges):
        the step's snapshot with only that task's writes applied, on copies."""
        values = dict(self.state_values)
        keys = self.program.state_key_set
        by_chan: dict[str, list[Any]] = {}
        for c, v in writes:
            if c in keys:
                by_chan.setdefault(c, []).append(v)
        for c, vals in by_chan.items():
            ch = self.channels[c].copy()
            ch.update(vals)
            if ch.is_available():
                values[c] = ch.get()
            else:
                values.pop(c, None)
        return values

    # -- output ------------------------------------------------------------------------
    def output_values(self) -> dict[str, Any]:
        sv = self.state_values
        return {k: sv[k] for k in self.program.output_keys if k in sv}

    def stream_values(self) -> dict[str, Any]:
        sv = self.state_values
        return {k: sv[k] for k in self.program.stream_keys if k in sv}

    def _emit_interrupts(self, interrupts: tuple[Any, ...]) -> None:
        run = self.run
        sink = run.sink
        ns = run.stream_ns
        if sink.wants("updates", ns):
            sink.emit(ns, "updates", {INTERRUPT: tuple(interrupts)})
        if sink.wants("values", ns):
            values = self.stream_values()
            values[INTERRUPT] = tuple(interrupts)
            sink.emit(ns, "values", values)

    def _emit_task_result(self, r: TaskResult) -> None:
        run = self.run
        sink = run.sink
        ns = run.stream_ns
        if not (sink.wants("tasks", ns) or sink.wants("debug", ns)):
            return
        if self.program.nodes[r.task.name].hidden:
            return
        update = _update_view(r.writes, self.program.stream_key_set)
        payload = {
            "id": r.task.id,
            "name": r.task.name,
            "error": r.error,
            "result": update if update is not None else {},
            "interrupts": [
                {"value": i.value, "id": i.id, "response_schema": i.response_schema}
                for i in r.interrupts
            ],
        }
        self._emit_task_event("task_result", payload)

    def _emit_task_event(self, kind: str, payload: dict[str, Any]) -> None:
        run = self.run
        sink = run.sink
        ns = run.stream_ns
        if sink.wants("tasks", ns):
            sink.emit(ns, "tasks", payload)
        if sink.wants("debug", ns):
            sink.emit(
                ns,
                "debug",
                {"step": self.step, "timestamp": _now(), "type": kind, "payload": payload},
            )


def _order(r: TaskResult) -> tuple[Any, ...]:
    return r.task.order
