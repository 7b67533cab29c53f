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
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from actorgraph._constants import CONF, CONFIG_KEY_CHECKPOINTER, END, INTERRUPT, PULL, RETURN, START
from actorgraph._types import PregelTask, StateSnapshot, StateUpdate
from actorgraph.actors._context import TaskContext
from actorgraph.actors._delta import ensure_message_ids
from actorgraph.actors._messages import SendMsg, TaskResult, TaskSpec
from actorgraph.actors._checkpoint import CheckpointBuilder, decode_pending
from actorgraph.actors._ids import subgraph_namespace
from actorgraph.actors._run import RunState, arestore
from actorgraph.actors._step import StateReader, StepState
from actorgraph.actors._stream import NULL_SINK, task_result_view
from actorgraph.errors import CheckpointNotFoundError, ConfigError, InvalidUpdateError
from actorgraph.persistence._engine import engine_saver

if TYPE_CHECKING:
    from actorgraph.actors._program import Program
    from actorgraph.persistence._base import LoadedCheckpoint

__all__ = ("aget_state", "aget_state_history", "aupdate_state", "abulk_update_state")

_COPY = "__copy__"
_INPUT = "__input__"


def _saver(program: Program, config: Any) -> Any:
    """The saver a state method reads: none for ``checkpointer=False``; else one lent
    through the config (``__pregel_checkpointer``, how a parent lends a subgraph its
    own), else the graph's."""
    saver = program.checkpointer
    if saver is not False:
        lent = _configurable(config).get(CONFIG_KEY_CHECKPOINTER)
        if lent is not None:
            saver = lent
        elif saver is True:
            raise RuntimeError("checkpointer=True cannot be used for root graphs.")
    if saver is None or saver is True or saver is False:
        raise ConfigError(
            f"No checkpointer set: graph '{program.name}' keeps no state between runs; "
            "compile it with one (e.g. compile(checkpointer=InMemorySaver()))",
            key="checkpointer",
        )
    return engine_saver(saver)


def _configurable(config: Any) -> Any:
    """``config["configurable"]``, checked: a dict (or nothing)."""
    if config is not None and not isinstance(config, Mapping):
        raise ConfigError(
            f"config must be a dict (a RunnableConfig), got {type(config).__name__}: {config!r:.80}", value=config
        )
    conf = (config or {}).get(CONF) or {}
    if not isinstance(conf, Mapping):
        raise ConfigError(
            f"config['configurable'] must be a dict, got {type(conf).__name__}: {conf!r:.80}", key="configurable", value=conf
        )
    return conf


def _where(config: Any) -> tuple[str, str, str | None]:
    conf = _configurable(config)
    thread = conf.get("thread_id")
    if thread is None:
        raise ConfigError(
            "Pass the thread to read or update: config={'configurable': {'thread_id': '...'}}", key="thread_id"
        )
    return str(thread), conf.get("checkpoint_ns", "") or "", conf.get("checkpoint_id")


def _program_for(program: Program, ns: str, config: Any, for_update: bool = False) -> Program:
    """The program of the (sub)graph whose checkpoints live in namespace ``ns``. A config
    that lends a saver (``__pregel_checkpointer``) addresses this graph itself, as does a
    namespace that names none of its subgraphs (a graph invoked by a tool, say) - except
    for an update, which would write this graph's state into it (``ValueError``)."""
    from actorgraph.pregel._runnable import GraphRunnable

    if not ns or CONFIG_KEY_CHECKPOINTER in ((config or {}).get(CONF) or {}):
        return program
    current = program
    for part in [p for p in ns.split("|") if p]:
        name = part.split(":", 1)[0]
        node = current.nodes.get(name)
        sub = None
        if node is not None:
            sub = node.subgraph if node.subgraph is not None else node.call_target
        if not isinstance(sub, GraphRunnable):
            if for_update:
                stable = "|".join(p.split(":", 1)[0] for p in ns.split("|") if p)
                raise ValueError(f"Subgraph {stable} not found")
            return program
        current = sub.program
    return current


def _conf(thread: str, ns: str, cid: str, parents: Any = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ns, "checkpoint_id": cid}
    if ns:
        # a subgraph's checkpoint: which checkpoint of each enclosing graph it belongs to
        conf["checkpoint_map"] = {**(parents or {}), ns: cid}
    return {"configurable": conf}


# -- reading ---------------------------------------------------------------------------
async def aget_state(program: Program, config: Any, *, subgraphs: bool = False) -> StateSnapshot:
    saver = _saver(program, config)
    thread, ns, cid = _where(config)
    target = _program_for(program, ns, config)
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
    if filter is not None and not isinstance(filter, Mapping):
        raise TypeError(
            f"get_state_history(filter=...) takes a dict of metadata keys and values, got {type(filter).__name__}: {filter!r:.80}"
        )
    saver = _saver(program, config)
    thread, ns, cid = _where(config)
    target = _program_for(program, ns, config)
    conf = {"configurable": {"thread_id": thread, "checkpoint_ns": ns}}
    if cid is not None:
        conf["configurable"]["checkpoint_id"] = cid
    async for loaded in saver.alist_loaded(conf, filter=filter, before=before, limit=limit):
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
            result = _snapshot_result(program, entry["writes"])
        node = program.nodes[t.name]
        sub_state: Any = None
        if node.subgraph is not None and node.subgraph.program.checkpointer is not False:
            child_program = node.subgraph.program
            child_ns = subgraph_namespace(row.ns, t.name, t.id, child_program.checkpointer is True)
            if subgraphs:
                sub_loaded = await saver.aload(row.thread_id, child_ns, None)
                if sub_loaded is not None:
                    sub_state = await _snapshot(child_program, saver, sub_loaded, latest=True, subgraphs=True)
            else:
                sub_state = {"configurable": {"thread_id": row.thread_id, "checkpoint_ns": child_ns}}
        out_tasks.append(
            PregelTask(
                id=t.id,
                name=t.name,
                path=t.path,
                error=entry["error"] if entry else None,
                interrupts=waiting,
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
    """Apply ``supersteps`` of updates, one checkpoint per superstep, as LangGraph does.

    An update as node ``n`` takes the id of the task ``n`` the checkpoint has pending (so
    ``get_state_history`` shows it as that task's result) and is saved as that task's
    writes on the checkpoint it builds on - unless the thread has moved past that
    checkpoint (then it forks). ``as_node="__input__"`` saves values as a run's input
    would be; ``"__copy__"`` copies the checkpoint (and applies a list of updates to the
    copy); ``END`` with no values drops what is pending.
    """
    if not supersteps:
        raise ValueError("No supersteps provided")
    if any(not updates for updates in supersteps):
        raise ValueError("No updates provided")
    saver = _saver(program, config)
    thread, ns, cid = _where(config)
    program = _program_for(program, ns, config, for_update=True)
    loaded = await saver.aload(thread, ns, cid)
    if loaded is None and cid is not None:
        raise CheckpointNotFoundError(thread, ns, cid, "update")
    # the head the update's checkpoints are compared with when saved
    head = await saver.alatest_id(thread, ns) if cid is not None else (loaded.id if loaded is not None else None)
    superseded = loaded is not None and cid is not None and head != loaded.id
    run = RunState(
        program,
        {"configurable": {"thread_id": thread}},
        sink=NULL_SINK,
        parent=None,
        sync_call=False,
        context=None,
        namespace=ns,
    )
    parents = dict(loaded.metadata.get("parents") or {}) if loaded is not None else {}
    run.resume.parent_checkpoints = parents  # a subgraph's update belongs to the same parent checkpoints
    builder = CheckpointBuilder(
        program,
        saver.serde,
        thread,
        ns,
        config=run.cfg.config,
        parents=parents,
        answers=run.resume.answers,
        deltas=getattr(saver, "deltas", True),
    )
    if loaded is not None:
        state = await arestore(program, loaded, saver)
        # an update branches off the checkpoint: its pending writes aren't applied
        builder.adopt(loaded, reapplies=False)
    else:
        state = StepState(program, program.new_channels(), step=-1)
        state.next_version = getattr(saver, "next_version", None)
    rows: list[Any] = []
    writes: list[Any] = []
    queue = [list(updates) for updates in supersteps]
    first = True
    # the saved checkpoint's pending writes, for a first superstep that clears its tasks
    clearing = decode_pending(loaded) if loaded is not None else None
    while queue:
        updates = queue.pop(0)
        base_saved = (loaded is not None) if first else True
        keep_writes = base_saved and not (first and superseded)
        first = False
        as_node0 = updates[0].as_node
        if as_node0 == _COPY:
            if len(updates) > 1:
                raise InvalidUpdateError("Cannot copy checkpoint with multiple updates")
            rows.append(_fork_row(builder, state, loaded))
            items = updates[0].values
            if isinstance(items, list) and items:
                queue.insert(0, [_as_update(item) for item in items])
            continue
        if as_node0 == _INPUT:
            if len(updates) > 1:
                raise InvalidUpdateError("Cannot apply multiple updates when updating as input")
            result = await _writes_as(program, run, state, _INPUT, updates[0].values, _input_task_id(builder))
            if program.delta_value_channels:
                ensure_message_ids(program.channels, result.writes)
            if keep_writes:
                writes.extend(builder.task_rows(result))
            _seal_delta_channels(builder, [result], keep_writes, fresh=not base_saved)
            changed = {chan for chan, _ in result.writes}
            state.apply_results([result])
            state.step = state.step + 1 if base_saved else -1
            rows.append(builder.checkpoint(state, "input", state.step, changed, builder.reserve_id(), changed))
            continue
        if as_node0 == END and updates[0].values is None and clearing is not None:
            # clearing the checkpoint's tasks: the ones that finished count (their saved
            # writes apply), the rest are dropped
            if len(updates) > 1:
                raise InvalidUpdateError("Cannot apply multiple updates when clearing state")
            results = _finished_results(state, builder, ns, clearing)
            clearing = None
            updated, written, changed = state.apply_results(results)
            state.step += 1
            rows.append(builder.checkpoint(state, "update", state.step, changed, builder.reserve_id(), written))
            continue
        clearing = None
        if len(updates) > 1 and any(u.as_node is None for u in updates):
            raise InvalidUpdateError("as_node is required when applying multiple updates")
        prepared = _prepared_ids(state, builder, ns) if base_saved else {}
        results = []
        for i, u in enumerate(updates):
            as_node = u.as_node if u.as_node is not None else _last_writer(program, state, loaded)
            ids = prepared.get(as_node)
            tid = u.task_id or (ids.pop(0) if ids else f"update-{as_node}-{i}")
            results.append(await _writes_as(program, run, state, as_node, u.values, tid))
            if program.delta_value_channels:
                ensure_message_ids(program.channels, results[-1].writes)
        if keep_writes:
            for i, r in enumerate(results):
                if r.task.name != END and r.writes:
                    # a Send's packet goes on the new checkpoint, the rest on this one; as
                    # LangGraph's, the update's task path is (__interrupt__, i), so stored
                    # updates sort (and replay) in the order given
                    task = msgspec.structs.replace(r.task, path=(INTERRUPT, i))
                    writes.extend(builder.task_rows(TaskResult(task=task, writes=r.writes, sends=[])))
        _seal_delta_channels(builder, results, keep_writes, fresh=not base_saved)
        # applied in the order given (LangGraph sorts them by that path)
        updated, written, changed = state.apply_results(results)
        state.step += 1
        rows.append(builder.checkpoint(state, "update", state.step, changed, builder.reserve_id(), written))
    await saver.asave(rows, writes, expect_head=head)
    last = rows[-1]
    return _conf(thread, ns, last.checkpoint_id, parents)


def _as_update(item: Any) -> StateUpdate:
    if isinstance(item, StateUpdate):
        return item
    if not isinstance(item, Sequence) or isinstance(item, (str, bytes)) or len(item) < 2:
        raise InvalidUpdateError(f"Invalid update item: {item!r} when copying checkpoint", value=item)
    return StateUpdate(item[0], item[1], item[2] if len(item) > 2 else None)


def _input_task_id(builder: CheckpointBuilder) -> str:
    base = builder.checkpoint_id
    return str(uuid.uuid5(uuid.UUID(base), _INPUT)) if base else "update-input"


def _finished_results(state: StepState, builder: CheckpointBuilder, ns: str, pending: dict[str, Any]) -> list[TaskResult]:
    """The checkpoint's tasks, with the writes of those that finished (so clearing
    keeps them, as LangGraph's does)."""
    out = []
    for spec in _pending_tasks(state, builder, ns):
        entry = pending.get(spec.id)
        if entry is not None and entry["done"]:
            out.append(TaskResult(task=spec, writes=entry["writes"], sends=entry["sends"]))
        else:
            out.append(TaskResult(task=spec, writes=[], sends=[]))
    return sorted(out, key=lambda r: r.task.order)


def _prepared_ids(state: StepState, builder: CheckpointBuilder, ns: str) -> dict[str, list[str]]:
    """Ids of the tasks the current checkpoint has pending, by node, in task order."""
    out: dict[str, list[str]] = {}
    for spec in _pending_tasks(state, builder, ns):
        out.setdefault(spec.name, []).append(spec.id)
    return out


def _pending_tasks(state: StepState, builder: CheckpointBuilder, ns: str) -> list[TaskSpec]:
    """The tasks the current checkpoint has pending (those of the step after it)."""
    saved_step = state.step
    state.step = saved_step + 1
    try:
        return state.prepare(None, builder.checkpoint_id, ns)
    finally:
        state.step = saved_step


def _fork_row(builder: CheckpointBuilder, state: StepState, loaded: LoadedCheckpoint | None) -> Any:
    if loaded is None:
        raise InvalidUpdateError("Cannot copy a non-existent checkpoint")
    # a copy of the checkpoint, with the same parent, one step later
    builder.checkpoint_id = loaded.row.parent_id
    state.step += 1
    # a copy is no new super-step for the delta channels' counters
    return builder.checkpoint(state, "fork", state.step, set(), builder.reserve_id(), bump=False)


def _seal_delta_channels(builder: CheckpointBuilder, results: list[TaskResult], kept: bool, fresh: bool) -> None:
    """A delta channel replays an update's writes from the checkpoint it builds on; when
    they aren't saved there (the thread moved past it), the channels they touch snapshot
    in the new checkpoint, and on a thread's first checkpoint every delta channel does."""
    book = builder.delta
    if book is None:
        return
    if fresh:
        book.forced.update(book.names)
    elif not kept:
        book.forced.update(c for r in results for c, _ in r.writes if c in book.names)


def _snapshot_result(program: Program, writes: list[tuple[str, Any]]) -> Any:
    """A finished task's result as a snapshot shows it: a task call's return value; in a
    graph with one output channel (a root schema, an entrypoint) the value written to it;
    else ``{key: value}`` of its writes to output keys."""
    for chan, value in writes:
        if chan == RETURN:
            return value
    single = program.stream_single
    if single is not None:
        return task_result_view(writes, (single,)).get(single)
    return task_result_view(writes, program.stream_key_set)


def _last_writer(program: Program, state: StepState, loaded: LoadedCheckpoint | None) -> str:
    """The node an update is attributed to by default: the one that ran last (on a new
    thread: ``__start__``, or the only node of a graph without one - an entrypoint)."""
    if loaded is None:
        if START not in program.nodes and len(program.nodes) == 1:
            return next(iter(program.nodes))
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
            "the update comes from",
            node=names[0],
        )
    return names[0]


async def _writes_as(
    program: Program, run: RunState, state: StepState, as_node: str, values: Any, tid: str
) -> TaskResult:
    if as_node == _INPUT:
        spec = TaskSpec(id=tid, name=_INPUT, path=(PULL, _INPUT), order=(0, _INPUT), step=state.step, input=None, triggers=())
        return TaskResult(task=spec, writes=program.map_input(values), sends=[])
    if as_node == END:
        # nothing is written and no trigger is kept: the thread has nothing pending after
        spec = TaskSpec(id="update-end", name=END, path=(PULL, END), order=(0, END), step=state.step, input=None, triggers=())
        return TaskResult(task=spec, writes=[], sends=[])
    node = program.nodes.get(as_node)
    if node is None:
        raise InvalidUpdateError(
            f"update_state(as_node={as_node!r}): no such node; nodes are {sorted(n for n in program.nodes if n != START)}",
            node=as_node,
        )
    spec = TaskSpec(
        id=tid,
        name=as_node,
        path=(PULL, as_node),
        order=(0, as_node),
        step=state.step,
        input=None,
        triggers=node.triggers,
    )

    run.reader = StateReader(state)
    tctx = TaskContext(run, spec, node)
    pending = node.finish(tctx, values)
    if pending is not None:
        await pending
    sends = [SendMsg(node=s.node, arg=s.arg) for s in tctx.sends]
    return TaskResult(task=spec, writes=list(tctx.writes), sends=sends)

