"""Where a task runs: the one place that decides it, from the node's kind and the call.

- ``NOW``: in the barrier's turn, no job, no hop. Bookkeeping that never blocks
  (``__start__``), and the lone task of a sync ``invoke``/``stream`` whose node is a
  plain sync function: the caller waits for it anyway, and the run's event loop is private
  to the call and runs on the caller's thread (LangGraph runs it on the caller's thread
  too).
- ``LOOP``: a job on the run's event loop: async code, sync code that never blocks (our
  own routing nodes), and a lone sync task of a sync call that needs async machinery
  around it (retries, a cache, streamed messages) - still on the caller's thread.
- ``WORKER``: a worker thread, for every other sync node: one of several tasks in flight,
  a task of an ``ainvoke`` (the loop is the caller's, shared with everything else it
  runs), a run that streams chunks while nodes run, and any lone task while rows wait
  for a saver that needs the loop to take them. A subgraph node of a sync fan-out is
  placed here too: its whole run goes to the thread, on that thread's own loop, where its
  lone sync nodes then run (as LangGraph runs a subgraph in a thread). So user code that
  blocks never holds up the loop that saves checkpoints, delivers stream events and runs
  the other tasks.

No timing, no statistics: the same node and call always get the same answer.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actorgraph.actors._program import NodeSpec

__all__ = ("Placement", "decide")


class Placement(enum.Enum):
    NOW = "now"
    LOOP = "loop"
    WORKER = "worker"


NOW = Placement.NOW
LOOP = Placement.LOOP
WORKER = Placement.WORKER


def decide(
    node: NodeSpec,
    *,
    sync_call: bool,
    alone: bool,
    plain: bool = True,
    timeout: bool = False,
    live_stream: bool = False,
    saver_caught_up: bool = True,
    isolated: bool = False,
    bounded: bool = False,
) -> Placement:
    """Where one task of ``node`` runs.

    ``sync_call``: the run serves a sync ``invoke``/``stream`` (its loop is private and runs
    on the caller's thread); ``alone``: no other task of that call is in flight (the step's
    only task, in a run that is itself alone: the lone task of a lone subgraph);
    ``plain``: nothing async wraps the call (no retry policy, cache, streamed messages);
    ``timeout``: the task runs under a timeout (sync code under one can only be abandoned,
    in a thread); ``live_stream``: the caller consumes stream chunks while nodes run;
    ``saver_caught_up``: every checkpoint row made so far is in the saver's hands (a
    thread of its own does the I/O), so blocking the loop can't hold up a save;
    ``isolated``: nothing of the run must stay on its loop (no tracing, no stream of
    subgraph events); ``bounded``: the call sets ``max_concurrency`` (which only jobs on
    the loop count towards).

    A subgraph node of a sync call that isn't alone runs in a worker thread, its whole
    run on that thread's own loop, where its lone sync tasks then run (as LangGraph runs
    a subgraph in a thread): otherwise each of them would hop to a thread on its own.
    """
    if node.run_now:
        return NOW if plain else LOOP
    if (
        node.is_subgraph
        and sync_call
        and not alone
        and plain
        and isolated
        and not bounded
        and not timeout
        and not node.retry_policy
        and node.cache_policy is None
        and node.timeout is None
    ):
        return WORKER
    if node.is_async or not node.blocking:
        return LOOP
    if sync_call and alone and node.inline_ok and not timeout and not live_stream and saver_caught_up:
        return NOW if plain and node.direct else LOOP
    return WORKER
