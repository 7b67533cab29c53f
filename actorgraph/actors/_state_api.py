"""Reading and editing a thread's saved state: ``get_state``, ``get_state_history``,
``update_state``, ``bulk_update_state``.

A snapshot is computed from a checkpoint the same way a run resumes it: the state is
restored into a ``StepState`` and the next step's tasks are prepared (never run), so
``next`` and ``tasks`` say exactly what a resume would do. An update runs the named
node's *writers* (its edges and conditional edges) on the given values, as if the node
had returned them, and saves the result as a new checkpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from actorgraph._constants import CONF, END, INTERRUPT, PULL, START
from actorgraph._types import PregelTask, StateSnapshot, StateUpdate
from actorgraph.actors._barrier import BarrierActor
from actorgraph.actors._context import TaskContext
from actorgraph.actors._messages import SendMsg, TaskResult, TaskSpec
from actorgraph.actors._persist import RunPersistence, decode_pending
from actorgraph.actors._run import RunState, arestore
from actorgraph.actors._step import StepState
from actorgraph.actors._stream import NULL_SINK
from actorgraph.errors import ConfigError, InvalidUpdateError

if TYPE_CHECKING:
    from actorgraph.actors._program import Program
    from actorgraph.persistence._base import LoadedCheckpoint

__all__ = ("aget_state", "aget_state_history", "aupdate_state", "abulk_update_state")

_COPY = "__copy__"
_INPUT = "__input__"


def _saver(program: Program) -> Any:
    saver = program.checkpointer
    if saver is None or saver is True or saver is False:
        raise ConfigError(
            f"Graph '{program.name}' has no checkpointer, so it keeps no state between runs: "
            "compile it with one (e.g. compile(checkpointer=InMemorySaver()))"
        )
    return saver


def _where(config: Any) -> tuple[str, str, str | None]:
    conf = (config or {}).get(CONF) or {}
    thread = conf.get("thread_id")
    if thread is None:
        raise ConfigError("Pass the thread to read or update: config={'configurable': {'thread_id': '...'}}")
    return str(thread), conf.get("checkpoint_ns", "") or "", conf.get("checkpoint_id")


def _program_for(program: Program, ns: str) -> Program:
    """The program of the (sub)graph whose checkpoints live in namespace ``ns``."""
    from actorgraph.actors._runnable import GraphRunnable

    for part in [p for p in ns.split("|") if p]:
        name = part.split(":", 1)[0]
        node = program.nodes.get(name)
        target = node.call_target if node is not None else None
        if not isinstance(target, GraphRunnable):
            raise ConfigError(f"Namespace '{ns}' names '{name}', which is not a subgraph node of '{program.name}'")
        program = target.program
    return program


def _conf(thread: str, ns: str, cid: str, parents: Any = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ns, "checkpoint_id": cid}
    if ns:
        # a subgraph's checkpoint: which checkpoint of each enclosing graph it belongs to
        conf["checkpoint_map"] = {**(parents or {}), ns: cid}
    return {"configurable": conf}


# -- reading ---------------------------------------------------------------------------
async def aget_state(program: Program, config: Any, *, subgraphs: bool = False) -> StateSnapshot:
    saver = _saver(program)
    thread, ns, cid = _where(config)
    target = _program_for(program, ns)
    loaded = await saver.aload(thread, ns, cid)
    if loaded is None:
        return StateSnapshot({}, (), {"configurable": {"thread_id": thread}}, None, None, None, (), ())  # type: ignore[typeddict-unknown-key]
    return await _snapshot(target, saver, loaded, latest=cid is None, subgraphs=subgraphs)


async def aget_state_history(
    program: Program,
    config: Any,
    *,
    filter: dict[str, Any] | None = None,
    before: Any = None,
    limit: int | None = None,
) -> AsyncIterator[StateSnapshot]:
    saver = _saver(program)
    thread, ns, cid = _where(config)
    target = _program_for(program, ns)
    conf = {"configurable": {"thread_id": thread, "checkpoint_ns": ns}}
    if cid is not None:
        conf["configurable"]["checkpoint_id"] = cid
    async for tup in saver.alist(conf, filter=filter, before=before, limit=limit):
        loaded = await saver.aload(thread, ns, tup.config["configurable"]["checkpoint_id"])
        if loaded is not None:
            yield await _snapshot(target, saver, loaded, latest=False, subgraphs=False)


async def _snapshot(program: Program, saver: Any, loaded: LoadedCheckpoint, *, latest: bool, subgraphs: bool) -> StateSnapshot:
    row = loaded.row
    state = await arestore(program, loaded, saver)
    pending = decode_pending(loaded)
    state.step += 1
    tasks = state.prepare(None, loaded.id, row.ns)
    done = [
        TaskResult(task=t, writes=pending[t.id]["writes"], sends=pending[t.id]["sends"])
        for t in tasks
        if t.id in pending and pending[t.id]["done"]
    ]
    if latest and done:
        # the latest view includes what finished tasks of the paused step wrote
        state.apply_results(sorted(done, key=lambda r: r.task.order))
    done_ids = {r.task.id for r in done}
    out_tasks = []
    all_interrupts: list[Any] = []
    for t in tasks:
        entry = pending.get(t.id)
        interrupts = tuple(entry["interrupts"]) if entry else ()
        waiting = interrupts if (not latest or t.id not in done_ids) else ()
        all_interrupts.extend(waiting)
        result = None
        if entry is not None and entry["done"]:
            result = {c: v for c, v in entry["writes"] if c in program.stream_key_set}
        node = program.nodes[t.name]
        sub_state: Any = None
        if node.is_subgraph:
            child_ns = f"{row.ns}|{t.name}:{t.id}" if row.ns else f"{t.name}:{t.id}"
            if subgraphs:
                sub_loaded = await saver.aload(row.thread_id, child_ns, None)
                if sub_loaded is not None:
                    child_program = node.call_target.program  # type: ignore[union-attr]
                    sub_state = await _snapshot(child_program, saver, sub_loaded, latest=True, subgraphs=True)
            else:
                sub_state = {"configurable": {"thread_id": row.thread_id, "checkpoint_ns": child_ns}}
        out_tasks.append(
            PregelTask(
                id=t.id,
                name=t.name,
                path=t.path,
                error=entry["error"] if entry else None,
                interrupts=interrupts,
                state=sub_state,
                result=result,
            )
        )
    next_names = tuple(t.name for t in tasks if not (latest and t.id in done_ids))
    parents = loaded.metadata.get("parents") if row.ns else None
    return StateSnapshot(
        values=state.stream_values(),
        next=next_names,
        config=_conf(row.thread_id, row.ns, row.checkpoint_id, parents),  # type: ignore[arg-type]
        metadata=dict(loaded.metadata),
        created_at=row.created_at,
        parent_config=_conf(row.thread_id, row.ns, row.parent_id, parents) if row.parent_id else None,  # type: ignore[arg-type]
        tasks=tuple(out_tasks),
        interrupts=tuple(all_interrupts),
    )


# -- updating ---------------------------------------------------------------------------
async def aupdate_state(
    program: Program,
    config: Any,
    values: Any,
    as_node: str | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    """Apply ``values`` as if node ``as_node`` had returned them; returns the config of the
    new checkpoint."""
    return await abulk_update_state(program, config, [[StateUpdate(values, as_node, task_id)]])


async def abulk_update_state(program: Program, config: Any, supersteps: Sequence[Sequence[StateUpdate]]) -> dict[str, Any]:
    if not supersteps:
        raise ValueError("bulk_update_state: no supersteps given")
    saver = _saver(program)
    thread, ns, cid = _where(config)
    program = _program_for(program, ns)
    loaded = await saver.aload(thread, ns, cid)
    run = RunState(program, {"configurable": {"thread_id": thread}}, sink=NULL_SINK, parent=None, sync_call=False, context=None)
    run.checkpoint_ns = ns
    persistence = RunPersistence(run, saver, thread, "sync")
    run.persistence = persistence
    if loaded is not None:
        state = await arestore(program, loaded, saver)
        # an update branches off the checkpoint: its pending writes aren't applied
        persistence.adopt(loaded, reapplies=False)
    else:
        state = StepState(program, program.new_channels(), step=-1)
    # a delta channel reads an update's writes from the checkpoint it builds on; one
    # that already has children (or no checkpoint at all) snapshots the channel instead
    stores_writes = loaded is not None and (cid is None or await saver.alatest_id(thread, ns) == loaded.id)
    rows: list[Any] = []
    write_rows: list[Any] = []
    for updates in supersteps:
        if not updates:
            raise ValueError("bulk_update_state: a superstep with no updates")
        if len(updates) > 1 and any(u.as_node is None for u in updates):
            raise InvalidUpdateError("as_node is required when applying several updates in one step")
        results: list[TaskResult] = []
        source = "update"
        for u in updates:
            as_node = u.as_node if u.as_node is not None else _last_writer(program, state, loaded)
            if as_node == _COPY:
                source = "fork"
                continue
            results.append(await _writes_as(program, run, state, as_node, u.values))
        if source == "fork":
            row = _fork_row(persistence, state, loaded)
        else:
            if any(r.task.name == _INPUT for r in results):
                source = "input"
            if persistence.delta is not None:
                write_rows.extend(_delta_update_writes(persistence, results, stores_writes, fresh=not rows and loaded is None))
            stores_writes = True  # later supersteps build on the one just made
            updated, written, changed = state.apply_results(sorted(results, key=lambda r: r.task.order))
            state.step += 1
            row = persistence.checkpoint(state, source, state.step, changed, persistence.reserve_id(), written)
        rows.append(row)
    await saver.asave(rows, write_rows)
    last = rows[-1]
    return _conf(thread, ns, last.checkpoint_id)


def _fork_row(persistence: RunPersistence, state: StepState, loaded: LoadedCheckpoint | None) -> Any:
    if loaded is None:
        raise InvalidUpdateError("as_node='__copy__' copies a checkpoint: the thread has none")
    # a copy of the checkpoint, with the same parent, one step later
    persistence.checkpoint_id = loaded.row.parent_id
    state.step += 1
    # a copy is no new super-step for the delta channels' counters
    return persistence.checkpoint(state, "fork", state.step, set(), persistence.reserve_id(), bump=False)


def _delta_update_writes(persistence: RunPersistence, results: list[TaskResult], stores: bool, fresh: bool) -> list[Any]:
    """Where an update's writes to delta channels go: saved as pending writes of the
    checkpoint it builds on (``stores``), else those channels snapshot in the new one
    (every delta channel does on a thread's first checkpoint)."""
    book = persistence.delta
    assert book is not None
    if fresh:
        book.forced.update(book.names)
        return []
    rows: list[Any] = []
    base = persistence.checkpoint_id
    for i, r in enumerate(results):
        ws = [(c, v) for c, v in r.writes if c in book.names]
        if not ws:
            continue
        if stores and base is not None:
            # one task id per update of the step, derived from the checkpoint
            tid = str(uuid.uuid5(uuid.UUID(base), INTERRUPT if i == 0 else f"{INTERRUPT}:{i}"))
            spec = msgspec.structs.replace(r.task, id=tid)
            rows.extend(persistence.write_rows(spec, ws, base))
        else:
            book.forced.update(c for c, _ in ws)
    return rows


def _last_writer(program: Program, state: StepState, loaded: LoadedCheckpoint | None) -> str:
    """The node an update is attributed to by default: the one that ran last."""
    if loaded is None:
        return START
    latest: list[tuple[int, str]] = []
    for node, seen in state.seen.items():
        if node in program.nodes and seen:
            latest.append((max(seen.values()), node))
    if not latest:
        return START
    top = max(v for v, _ in latest)
    names = sorted({n for v, n in latest if v == top})
    if len(names) > 1:
        raise InvalidUpdateError(
            f"Ambiguous update: nodes {names} ran last together; pass as_node= to say which one "
            "the update comes from"
        )
    return names[0]


async def _writes_as(program: Program, run: RunState, state: StepState, as_node: str, values: Any) -> TaskResult:
    if as_node == _INPUT:
        spec = TaskSpec(id="update-input", name=_INPUT, path=(PULL, _INPUT), order=(0, _INPUT), step=state.step, input=None, triggers=())
        return TaskResult(task=spec, writes=program.map_input(values), sends=[])
    if as_node == END:
        # nothing is written and no trigger is kept: the thread has nothing pending after
        spec = TaskSpec(id="update-end", name=END, path=(PULL, END), order=(0, END), step=state.step, input=None, triggers=())
        return TaskResult(task=spec, writes=[], sends=[])
    node = program.nodes.get(as_node)
    if node is None:
        raise InvalidUpdateError(
            f"update_state(as_node={as_node!r}): no such node; nodes are {sorted(n for n in program.nodes if n != START)}"
        )
    spec = TaskSpec(
        id=f"update-{as_node}",
        name=as_node,
        path=(PULL, as_node),
        order=(0, as_node),
        step=state.step,
        input=None,
        triggers=node.triggers,
    )

    run.barrier = BarrierActor(run, state)
    tctx = TaskContext(run, spec, node)
    pending = node.finish(tctx, values)
    if pending is not None:
        await pending
    sends = [SendMsg(node=s.node, arg=s.arg) for s in tctx.sends]
    return TaskResult(task=spec, writes=list(tctx.writes), sends=sends)

