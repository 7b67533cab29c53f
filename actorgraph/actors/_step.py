"""``StepState``: the channel side of the barrier - values, versions, what each node has
seen, pending Sends - and the pure step logic on it: apply a step's writes, work out the
next step's tasks. No actors, no I/O: the barrier drives it during a run, and
``get_state``/``update_state`` drive it on a checkpoint read back from a saver.

Per-step work is proportional to what the step wrote: channels to clear between steps
are tracked as they fill, and the next active set comes from the compile-time
channel -> nodes table, never a scan of every channel or node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actorgraph._constants import INTERRUPT, PULL, PUSH
from actorgraph.actors._ids import task_id, task_id_v1
from actorgraph.actors._messages import SendMsg, TaskResult, TaskSpec
from actorgraph.channels._aggregate import overwrite_value
from actorgraph.channels._base import MISSING
from actorgraph.errors import InvalidUpdateError

if TYPE_CHECKING:
    from actorgraph.actors._program import Program
    from actorgraph.channels import BaseChannel

__all__ = ("StateReader", "StepState")


class StepState:
    __slots__ = (
        "program",
        "channels",
        "versions",
        "seen",
        "version",
        "state_values",
        "live_clear",
        "pending_sends",
        "step",
        "overwritten",
        "v1_seed",
        "next_version",
    )

    def __init__(
        self,
        program: Program,
        channels: dict[str, BaseChannel[Any, Any, Any]],
        *,
        versions: dict[str, int] | None = None,
        seen: dict[str, dict[str, int]] | None = None,
        pending_sends: list[SendMsg] | None = None,
        step: int = 0,
    ) -> None:
        self.program = program
        self.channels = channels
        self.versions: dict[str, int] = dict(versions) if versions else {}
        self.seen: dict[str, dict[str, int]] = {k: dict(v) for k, v in seen.items()} if seen else {}
        self.version = max(self.versions.values()) if versions else 0
        self.state_values: dict[str, Any] = {
            k: channels[k].get() for k in program.state_keys if channels[k].is_available()
        }
        self.live_clear = {k for k in program.step_clear_channels if channels[k].is_available()}
        self.pending_sends: list[SendMsg] = list(pending_sends or ())
        self.step = step
        # delta channels an Overwrite replaced since the last checkpoint: they snapshot
        self.overwritten: set[str] = set()
        # the id of a checkpoint LangGraph saved in format 1: its step's tasks have ids
        # hashed the way that format did (see ``task_id_v1``)
        self.v1_seed: str | None = None
        # the version after the current one: the checkpointer's own ``get_next_version``
        # when it has one (see ``engine_saver``), else a count up by one
        self.next_version: Callable[[int], int] | None = None

    @classmethod
    def restore(
        cls,
        program: Program,
        values: dict[str, Any],
        versions: dict[str, int],
        seen: dict[str, dict[str, int]],
        pending_sends: list[SendMsg],
        step: int,
    ) -> StepState:
        """State from saved values; channels the program no longer has are dropped, new
        ones start empty (graph migration)."""
        channels = program.new_channels({k: v for k, v in values.items() if k in program.channels})
        known = {k: v for k, v in versions.items() if k in program.channels}
        return cls(program, channels, versions=known, seen=seen, pending_sends=pending_sends, step=step)

    # -- applying writes -----------------------------------------------------------------
    def apply_results(self, results: list[TaskResult]) -> tuple[set[str], set[str], set[str]]:
        """Apply a step's results (sorted by task order); see ``apply_writes``."""
        program = self.program
        versions = self.versions
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
        hook = self.next_version
        next_version = self.version + 1 if hook is None else hook(self.version)
        consumable = program.consumable_channels
        consumed: set[str] | None = None
        if consumable:
            consumed = set()
            for r in results:
                for c in r.task.triggers:
                    if c in consumable and self.channels[c].consume():
                        versions[c] = next_version
                        consumed.add(c)
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
            updated, written, changed = self.apply_writes(writes, True, next_version)
        except InvalidUpdateError as exc:
            raise _explain_conflict(exc, results, self.step) from None
        if consumed:
            # a consumed join is saved as consumed, so a resume doesn't run its node again
            changed |= consumed
        return updated, written, changed

    def apply_null(self, result: TaskResult) -> tuple[set[str], set[str], set[str]]:
        """Apply writes that belong to no task (a Command's update on a saved step): no
        step passes, so nothing pending is cleared - but its Sends replace the pending
        ones (as a write to LangGraph's Send channel does), so the tasks of the Sends
        they replace don't run, and their saved results are dropped."""
        if result.sends:
            self.pending_sends = list(result.sends)
        return self.apply_writes(list(result.writes), bump=False)

    def _new_version(self) -> int:
        hook = self.next_version
        return self.version + 1 if hook is None else hook(self.version)

    def apply_writes(
        self, writes: list[tuple[str, Any]], bump: bool, version: int | None = None
    ) -> tuple[set[str], set[str], set[str]]:
        """Apply ``writes`` as one step (``bump``: a step passed, so one-step channels
        clear) at ``version`` (by default the next one). Returns (``updated``: channels
        that now hold a new value and may trigger nodes; ``written``: channels written
        to; ``changed``: channels whose stored value changed, cleared ones included)."""
        program = self.program
        channels = self.channels
        versions = self.versions
        v = self.version = version if version is not None else self._new_version()
        by_chan: dict[str, list[Any]] = {}
        for c, val in writes:
            lst = by_chan.get(c)
            if lst is None:
                by_chan[c] = [val]
            else:
                lst.append(val)
        updated: set[str] = set()
        changed: set[str] = set()
        deltas = program.delta_value_channels
        for c, vals in by_chan.items():
            ch = channels.get(c)
            if ch is None:
                continue  # e.g. a write to a channel a newer graph version removed
            if deltas and c in deltas and any(overwrite_value(v)[0] for v in vals):
                self.overwritten.add(c)
            if ch.update(vals):
                versions[c] = v
                changed.add(c)
                if ch.is_available():
                    updated.add(c)
        if bump:
            clear = program.step_clear_channels
            for c in self.live_clear:
                if c not in by_chan and channels[c].update([]):
                    versions[c] = v
                    changed.add(c)
                    if channels[c].is_available():
                        updated.add(c)
            live: set[str] = set()
            if clear:
                for c in by_chan:
                    if c in clear and channels[c].is_available():
                        live.add(c)
            self.live_clear = live
            if program.finish_channels and not self.pending_sends:
                triggers = program.trigger_to_nodes
                if not any(c in triggers for c in updated):
                    for c in program.finish_channels:
                        if channels[c].finish():
                            versions[c] = v
                            changed.add(c)
                            if channels[c].is_available():
                                updated.add(c)
        else:
            self.live_clear.update(c for c in by_chan if c in program.step_clear_channels)
        # keys keep the schema's order (what LangGraph's state dicts show), not the order
        # they were first written in: a new key that sorts before the last one present
        # means rebuilding the dict
        state_keys = program.state_key_set
        sv = self.state_values
        reorder = False
        for c in changed:
            if c in state_keys:
                ch = channels[c]
                if ch.is_available():
                    if not reorder and sv and c not in sv:
                        order = program.state_key_order
                        reorder = order[c] < order[next(reversed(sv))]
                    sv[c] = ch.get()
                else:
                    sv.pop(c, None)
        if reorder:
            self.state_values = {k: sv[k] for k in program.state_keys if k in sv}
        return updated, set(by_chan), changed

    def discard_pending(self) -> None:
        """New input on a thread whose last step has tasks left: as in LangGraph, they are
        dropped - pending Sends cleared, and each triggered node marks what triggered it
        as seen (so neither this run nor one resumed from its checkpoints runs them)."""
        self.pending_sends = []
        channels = self.channels
        versions = self.versions
        for name, node in self.program.nodes.items():
            seen = self.seen.get(name)
            fresh = [
                c for c in node.triggers
                if channels[c].is_available() and versions.get(c, 0) > (seen.get(c, 0) if seen else 0)
            ]  # fmt: skip
            if fresh:
                if seen is None:
                    seen = self.seen[name] = {}
                for c in fresh:
                    seen[c] = versions[c]

    # -- next step -----------------------------------------------------------------------
    def prepare(self, updated: set[str] | None, seed: str | None, ns: str) -> list[TaskSpec]:
        """The tasks of step ``self.step``: a push task per pending Send, then a pull task
        per node triggered by a channel it hasn't seen (only nodes that ``updated``
        channels trigger are checked; ``None`` checks every node)."""
        program = self.program
        nodes = program.nodes
        step = self.step
        tasks: list[TaskSpec] = []
        ids = self._task_ids(seed)
        for i, send in enumerate(self.pending_sends):
            if send.node not in nodes:
                continue
            tasks.append(
                TaskSpec(
                    id=ids(seed, ns, step, send.node, PUSH, str(i)),
                    name=send.node,
                    path=(PUSH, i, False),  # LangGraph's shape for a Send task
                    order=(1, i),
                    step=step,
                    input=send.arg,
                    triggers=(PUSH,),
                    timeout=send.timeout,
                )
            )
        if updated is None:
            candidates: set[str] | list[str] = list(nodes)
        else:
            if not updated:
                return tasks
            t2n = program.trigger_to_nodes
            candidates = set()
            for c in updated:
                names = t2n.get(c)
                if names:
                    candidates.update(names)
            if not candidates:
                return tasks
        channels = self.channels
        versions = self.versions
        for name in sorted(candidates):
            node = nodes[name]
            seen = self.seen.get(name)
            for c in node.triggers:
                if channels[c].is_available() and versions.get(c, 0) > (seen.get(c, 0) if seen else 0):
                    break
            else:
                continue
            if node.read_channel is not None:
                ch = channels[node.read_channel]
                if not ch.is_available():
                    continue  # triggered, but what it reads is empty: no task (as LangGraph)
                inp: Any = ch.get()
            elif name in program.all_state_readers:
                inp = dict(self.state_values)
            else:
                sv = self.state_values
                inp = {k: sv[k] for k in node.reads or () if k in sv}
            tasks.append(self.pull_task(name, inp, seed, ns))
        return tasks

    def _task_ids(self, seed: str | None) -> Any:
        """The task-id function of tasks made from checkpoint ``seed``: LangGraph's
        format-1 one for a step it saved in that format, else ``task_id``."""
        return task_id if self.v1_seed is None or seed != self.v1_seed else task_id_v1

    def pull_task(self, name: str, inp: Any, seed: str | None, ns: str) -> TaskSpec:
        """The task of node ``name`` triggered by its channels in step ``self.step``."""
        node = self.program.nodes[name]
        ids = self._task_ids(seed)
        return TaskSpec(
            id=ids(seed, ns, self.step, name, *node.id_parts),
            name=name,
            path=(PULL, name),
            order=(0, name),
            step=self.step,
            input=inp,
            triggers=node.triggers,
        )

    # -- breakpoints -------------------------------------------------------------------
    def should_interrupt(self, nodes: Any, tasks: list[TaskSpec]) -> bool:
        """Whether a static breakpoint (``interrupt_before``/``_after``) fires: one of
        ``tasks`` is named by ``nodes`` (``"*"``: any) and the state changed since the
        last breakpoint paused here."""
        if not nodes:
            return False
        marker = self.seen.get(INTERRUPT, {})
        if not any(v > marker.get(c, 0) for c, v in self.versions.items()):
            return False
        every = nodes == "*"
        hidden = self.program.nodes
        return any((every and not hidden[t.name].hidden) or (not every and t.name in nodes) for t in tasks)

    def mark_interrupt(self) -> None:
        """Remember the state a breakpoint paused at, so resuming passes it."""
        self.seen[INTERRUPT] = dict(self.versions)

    # -- reading -----------------------------------------------------------------------
    def current_values(self) -> dict[str, Any]:
        return self.state_values

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

    def output_values(self) -> Any:
        single = self.program.single_output
        if single is not None:
            return self.state_values.get(single)
        sv = self.state_values
        return {k: sv[k] for k in self.program.output_keys if k in sv}

    def stream_values(self) -> Any:
        single = self.program.stream_single
        if single is not None:
            return self.state_values.get(single)
        sv = self.state_values
        return {k: sv[k] for k in self.program.stream_keys if k in sv}

    def checkpoint_values(self, names: Any = None) -> dict[str, Any]:
        """Storable values of the channels ``names`` (all when None); empty and untracked
        channels are left out."""
        out = {}
        channels = self.channels
        for name in channels if names is None else names:
            ch = channels.get(name)
            if ch is None:
                continue
            value = ch.checkpoint()
            if value is not MISSING:
                out[name] = value
        return out


def _explain_conflict(exc: InvalidUpdateError, results: list[TaskResult], step: int) -> InvalidUpdateError:
    key = exc.key
    if key is None or type(exc) is not InvalidUpdateError:
        return exc  # (an InvalidMessageError from add_messages keeps its type)
    writers = [r.task.name for r in results if any(c == key for c, _ in r.writes)]
    if not writers:
        return exc
    names = ", ".join(f"'{w}'" for w in writers)
    # one writing node is the node at fault; several are named in the message
    return InvalidUpdateError(
        f"{exc}\nIn step {step}, key '{key}' was written by: {names}.",
        key=key,
        node=writers[0] if len(set(writers)) == 1 else exc.node,
        value=exc.value,
    )


class StateReader:
    """What a running task may read of its graph's state (its port: a task never reaches
    into the barrier): the state as the step started, and that state with only its own
    writes applied (for its conditional edges)."""

    __slots__ = ("values", "fresh")

    def __init__(self, state: StepState) -> None:
        self.values: Callable[[], dict[str, Any]] = state.current_values
        """Every state key's value as the step started (do not mutate)."""
        self.fresh: Callable[[list[tuple[str, Any]]], dict[str, Any]] = state.fresh_state
        """The step's state with a task's writes applied, on copies."""
