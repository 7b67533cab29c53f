"""What a run continues from: the answers it carries to interrupts, the results its
resumed step reuses, the entrypoint's previous return value, and where it sits in the
thread's lineage (the checkpoints its caller addressed, a time-travel replay, its
parents' checkpoints).

One ``ResumeState`` per run, apart from the run's frozen facts and its live parts: a
subgraph run shares its parent's answers, addresses and replay, and adds its parent's
checkpoint to its lineage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actorgraph.actors._context import _NO_ANSWER, interrupt_id
from actorgraph.actors._ids import stable_namespace

if TYPE_CHECKING:
    from actorgraph.actors._context import TaskContext

__all__ = ("ANY_INTERRUPT", "Replay", "ResumeState")

ANY_INTERRUPT = "*"
"""The resume-map key of an answer given without an interrupt id."""


class Replay:
    """A run that time-travels to checkpoint ``before``: the first run of each subgraph
    in it starts from that subgraph's state as it was then (its last checkpoint older
    than ``before``); later runs of it (a loop) continue normally."""

    __slots__ = ("before", "seen")

    def __init__(self, before: str) -> None:
        self.before = before
        self.seen: set[str] = set()

    def first_visit(self, ns: str) -> bool:
        key = stable_namespace(ns)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class ResumeState:
    """A run's answers to interrupts and what it continues from (see the module)."""

    __slots__ = (
        "resume_map",
        "prior_answers",
        "answers",
        "saved_returns",
        "resumed_step",
        "null_writes",
        "replay",
        "address_map",
        "parent_checkpoints",
        "root",
        "previous",
    )

    def __init__(
        self,
        *,
        root: bool,
        resume_map: dict[str, Any] | None = None,
        address_map: dict[str, str] | None = None,
        parent_checkpoints: dict[str, str] | None = None,
        replay: Replay | None = None,
    ) -> None:
        self.root = root
        # answers by interrupt id (``ANY_INTERRUPT``: the first interrupt that asks), shared
        # with the run's subgraphs
        self.resume_map: dict[str, Any] = resume_map if resume_map is not None else {}
        # answers the saved step's tasks got before (task id -> answers in order)
        self.prior_answers: dict[str, list[Any]] = {}
        # answers this run's tasks hold now (saved with their writes)
        self.answers: dict[str, list[Any]] = {}
        # results of task calls that finished before the saved step paused or failed
        self.saved_returns: dict[str, tuple[Any]] = {}
        # the step a resumed run re-runs (its tasks' subgraphs resume too)
        self.resumed_step: int | None = None
        # Command updates already saved on the step this run resumes
        self.null_writes: list[tuple[str, Any]] = []
        self.replay = replay
        # checkpoints the caller addressed by namespace (a subgraph's config from
        # get_state(subgraphs=True) carries one for each enclosing graph)
        self.address_map: dict[str, str] = address_map if address_map is not None else {}
        # each enclosing graph's namespace -> its checkpoint this run belongs to
        self.parent_checkpoints: dict[str, str] = parent_checkpoints if parent_checkpoints is not None else {}
        # what the thread's last run returned (an entrypoint's ``previous``), as restored
        self.previous: Any = None

    def child(self, parent_ns: str, parent_checkpoint: str | None) -> ResumeState:
        """The resume state of a subgraph run of this run (whose checkpoint, if saved, is
        ``parent_checkpoint`` under ``parent_ns``)."""
        lineage = dict(self.parent_checkpoints)
        if parent_checkpoint is not None:
            lineage[parent_ns] = parent_checkpoint
        return ResumeState(
            root=False,
            resume_map=self.resume_map,
            address_map=self.address_map,
            parent_checkpoints=lineage,
            replay=self.replay,
        )

    # -- used by tasks -----------------------------------------------------------------
    def answers_for(self, task_id: str) -> list[Any]:
        """The answers task ``task_id`` got before (a copy it extends)."""
        prior = self.prior_answers
        return list(prior.get(task_id, ())) if prior else []

    def take(self, tctx: TaskContext, answered: int) -> Any:
        """The answer for the task's next unanswered interrupt (slot ``answered``)."""
        resume_map = self.resume_map
        if not resume_map:
            return _NO_ANSWER
        answer = resume_map.pop(interrupt_id(tctx.ns, answered), _NO_ANSWER)
        if answer is _NO_ANSWER and answered:
            # threads saved by older versions gave all of a task's interrupts the first id
            answer = resume_map.pop(interrupt_id(tctx.ns, 0), _NO_ANSWER)
        if answer is _NO_ANSWER:
            # a plain Command(resume=value): the first interrupt that asks takes it
            answer = resume_map.pop(ANY_INTERRUPT, _NO_ANSWER)
        return answer

    def record(self, tctx: TaskContext) -> None:
        self.answers[tctx.spec.id] = list(tctx.resume)

    def close_resumed_step(self) -> None:
        """An answer given without an interrupt id is for the step the run resumes (as
        LangGraph's): once that step closed, a later interrupt asks again."""
        if self.root:
            self.resume_map.pop(ANY_INTERRUPT, None)
