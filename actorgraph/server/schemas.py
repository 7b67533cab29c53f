"""Every request and response body of the server, as msgspec Structs.

Requests are decoded straight into these (a wrong type or a missing field is a 422 that
names the field); responses are encoded from them; ``/openapi.json`` is generated from
them. Field names and shapes are those of LangGraph's server, which ``langgraph-sdk`` reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

__all__ = (
    "Assistant", "AssistantCount", "AssistantCreate", "AssistantLatest", "AssistantPatch", "AssistantSearch",
    "AssistantVersion", "AssistantVersionsSearch", "CheckpointRef", "CommandBody", "Cron", "CronCount", "CronCreate",
    "CronPatch", "CronSearch", "ErrorBody", "GraphSchemas", "ThreadCronCreate",
    "Item", "ListNamespaces", "ListNamespacesResponse", "Run", "RunCancelMany", "RunCreate", "SearchItem",
    "SearchItemsResponse", "StoreDelete", "StorePut", "StoreSearch", "Thread", "ThreadCount", "ThreadCreate",
    "ThreadHistory", "ThreadPatch", "ThreadPrune", "ThreadSearch", "ThreadState", "ThreadStateAtCheckpoint",
    "ThreadStateUpdate", "ThreadTask", "ThreadUpdateStateResponse", "UNSET", "UnsetType",
)

Json = dict[str, Any]
Limit = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Offset = Annotated[int, msgspec.Meta(ge=0)]
IfExists = Literal["raise", "do_nothing"]
SortOrder = Literal["asc", "desc"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
StreamModeName = Literal[
    "values", "messages", "messages-tuple", "updates", "events", "debug", "custom", "tasks", "checkpoints"
]


class _Body(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """A request body: unknown fields are ignored, as LangGraph's server does."""


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every 4xx/5xx answer: ``detail`` says what was wrong and names the field."""

    detail: str


# -- assistants -------------------------------------------------------------------------


class AssistantCreate(_Body, kw_only=True):
    graph_id: str
    assistant_id: str | None = None
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    if_exists: IfExists | None = None
    name: str | None = None
    description: str | None = None


class AssistantPatch(_Body, kw_only=True):
    graph_id: str | None = None
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    name: str | None = None
    description: str | None = None


AssistantSortBy = Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"]


class AssistantSearch(_Body, kw_only=True):
    metadata: Json | None = None
    graph_id: str | None = None
    name: str | None = None
    limit: Limit = 10
    offset: Offset = 0
    sort_by: AssistantSortBy | None = None
    sort_order: SortOrder | None = None
    select: list[str] | None = None


class AssistantCount(_Body, kw_only=True):
    metadata: Json | None = None
    graph_id: str | None = None
    name: str | None = None


class AssistantVersionsSearch(_Body, kw_only=True):
    metadata: Json | None = None
    limit: Limit = 10
    offset: Offset = 0


class AssistantLatest(_Body, kw_only=True):
    version: int | None = None


class AssistantVersion(msgspec.Struct, kw_only=True):
    """One version of an assistant (``created_at``: when the version was made)."""

    assistant_id: str
    graph_id: str
    config: Json
    context: Json
    metadata: Json
    created_at: datetime
    version: int
    name: str
    description: str | None = None


class Assistant(AssistantVersion, kw_only=True):
    """An assistant at its latest version (``created_at``: when the assistant was made)."""

    updated_at: datetime


class GraphSchemas(msgspec.Struct, kw_only=True):
    graph_id: str
    input_schema: Json | None = None
    output_schema: Json | None = None
    state_schema: Json | None = None
    config_schema: Json | None = None
    context_schema: Json | None = None


# -- threads ----------------------------------------------------------------------------


class ThreadSuperstepUpdate(_Body, kw_only=True):
    values: Any = None
    command: Any = None
    as_node: str


class ThreadSuperstep(_Body, kw_only=True):
    updates: list[ThreadSuperstepUpdate]


class ThreadCreate(_Body, kw_only=True):
    thread_id: str | None = None
    metadata: Json | None = None
    if_exists: IfExists | None = None
    supersteps: list[ThreadSuperstep] | None = None
    ttl: Json | None = None


class ThreadPatch(_Body, kw_only=True):
    metadata: Json | None = None
    ttl: Json | None = None


ThreadSortBy = Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"]


class ThreadSearch(_Body, kw_only=True):
    metadata: Json | None = None
    values: Json | None = None
    ids: list[str] | None = None
    status: ThreadStatus | None = None
    limit: Limit = 10
    offset: Offset = 0
    sort_by: ThreadSortBy | None = None
    sort_order: SortOrder | None = None
    select: list[str] | None = None
    extract: dict[str, str] | None = None


class ThreadCount(_Body, kw_only=True):
    metadata: Json | None = None
    values: Json | None = None
    status: ThreadStatus | None = None


class ThreadPrune(_Body, kw_only=True):
    thread_ids: list[str]
    strategy: Literal["delete", "keep_latest"] = "delete"


class CheckpointRef(_Body, kw_only=True):
    """Points at one checkpoint of a thread (``thread_id`` is taken from the path)."""

    checkpoint_id: str | None = None
    checkpoint_ns: str = ""
    thread_id: str | None = None
    checkpoint_map: Json | None = None


class ThreadStateAtCheckpoint(_Body, kw_only=True):
    checkpoint: CheckpointRef
    subgraphs: bool = False
    select: list[str] | None = None


class ThreadStateUpdate(_Body, kw_only=True):
    values: Any = None
    checkpoint: CheckpointRef | None = None
    checkpoint_id: str | None = None
    as_node: str | None = None


class ThreadHistory(_Body, kw_only=True):
    limit: int = 10
    before: str | CheckpointRef | None = None
    metadata: Json | None = None
    checkpoint: CheckpointRef | None = None
    select: list[str] | None = None


class Thread(msgspec.Struct, kw_only=True):
    thread_id: str
    created_at: datetime
    updated_at: datetime
    state_updated_at: datetime | None = None
    metadata: Json
    status: ThreadStatus = "idle"
    values: Any = None
    interrupts: dict[str, list[Any]] = {}
    config: Json = {}
    error: Any = None


class ThreadTask(msgspec.Struct, kw_only=True):
    id: str
    name: str
    path: list[Any] = []
    error: str | None = None
    interrupts: list[Any] = []
    checkpoint: Json | None = None
    state: Any = None
    result: Any = None


class ThreadState(msgspec.Struct, kw_only=True):
    values: Any
    next: list[str]
    tasks: list[ThreadTask]
    checkpoint: Json | None
    metadata: Json | None
    created_at: str | None
    parent_checkpoint: Json | None
    interrupts: list[Any] = []
    checkpoint_id: str | None = None
    parent_checkpoint_id: str | None = None


class ThreadUpdateStateResponse(msgspec.Struct, kw_only=True):
    checkpoint: Json
    configurable: Json
    checkpoint_id: str | None


# -- runs -------------------------------------------------------------------------------


class CommandBody(_Body, kw_only=True):
    update: Any = None
    resume: Any = None
    goto: Any = None


class RunCreate(_Body, kw_only=True):
    assistant_id: str
    input: Any = None
    command: CommandBody | None = None
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    stream_mode: StreamModeName | list[StreamModeName] = "values"
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    checkpoint: CheckpointRef | None = None
    checkpoint_id: str | None = None
    checkpoint_during: bool | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    feedback_keys: list[str] | None = None
    webhook: str | None = None
    multitask_strategy: MultitaskStrategy | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    after_seconds: float | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    strict_resume: bool | None = None
    langsmith_tracer: Json | None = None


class RunCancelMany(_Body, kw_only=True):
    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None


class Run(msgspec.Struct, kw_only=True):
    run_id: str
    thread_id: str
    assistant_id: str
    created_at: datetime
    updated_at: datetime
    status: RunStatus
    metadata: Json
    kwargs: Json
    multitask_strategy: MultitaskStrategy


# -- store ------------------------------------------------------------------------------


class StorePut(_Body, kw_only=True):
    namespace: list[str]
    key: str
    value: Json
    index: Literal[False] | list[str] | None = None
    ttl: float | None = None


class StoreDelete(_Body, kw_only=True):
    namespace: list[str] | None = None
    key: str


class StoreSearch(_Body, kw_only=True):
    namespace_prefix: list[str] | None = None
    filter: Json | None = None
    limit: Limit = 10
    offset: Offset = 0
    query: str | None = None
    refresh_ttl: bool | None = None


class ListNamespaces(_Body, kw_only=True):
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: Annotated[int, msgspec.Meta(ge=1)] | None = None
    limit: Limit = 100
    offset: Offset = 0


class Item(msgspec.Struct, kw_only=True):
    namespace: list[str]
    key: str
    value: Json
    created_at: datetime
    updated_at: datetime


class SearchItem(Item, kw_only=True):
    score: float | None = None


class SearchItemsResponse(msgspec.Struct, kw_only=True):
    items: list[SearchItem]


class ListNamespacesResponse(msgspec.Struct, kw_only=True):
    namespaces: list[list[str]]


# -- crons ------------------------------------------------------------------------------


class ThreadCronCreate(_Body, kw_only=True):
    """A cron whose runs go to one thread. The whole body is kept as the cron's ``payload``
    (what each run is created from); these are the fields checked at creation."""

    assistant_id: str
    schedule: str
    timezone: str | None = None
    end_time: datetime | None = None
    input: Any = None
    metadata: Json | None = None
    config: Json | None = None
    context: Json | None = None
    webhook: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    multitask_strategy: MultitaskStrategy | None = None
    enabled: bool | None = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    checkpoint_during: bool | None = None


class CronCreate(ThreadCronCreate, kw_only=True):
    """A stateless cron: each firing runs on a new thread, deleted after the run unless
    ``on_run_completed`` is ``keep``."""

    on_run_completed: Literal["delete", "keep"] | None = None


class CronPatch(_Body, kw_only=True):
    """Fields to change; ``end_time: null`` clears the end time, an absent field is kept."""

    schedule: str | None = None
    timezone: str | None = None
    end_time: datetime | None | UnsetType = UNSET
    input: Any = None
    metadata: Json | None = None
    config: Json | None = None
    context: Json | None = None
    webhook: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    on_run_completed: Literal["delete", "keep"] | None = None
    enabled: bool | None = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None


CronSortBy = Literal["cron_id", "assistant_id", "thread_id", "next_run_date", "end_time", "created_at", "updated_at"]
CronField = Literal[
    "cron_id", "assistant_id", "thread_id", "on_run_completed", "end_time", "schedule", "timezone", "created_at",
    "updated_at", "user_id", "payload", "next_run_date", "metadata", "enabled",
]


class CronSearch(_Body, kw_only=True):
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: Json | None = None
    limit: Limit = 10
    offset: Offset = 0
    sort_by: CronSortBy | None = None
    sort_order: SortOrder | None = None
    select: list[CronField] | None = None


class CronCount(_Body, kw_only=True):
    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: Json | None = None


class Cron(msgspec.Struct, kw_only=True):
    """A cron as LangGraph's server shows it; ``next_run_date`` is when it fires next
    (null: its schedule has no later time)."""

    cron_id: str
    assistant_id: str
    thread_id: str | None
    user_id: str | None = None
    end_time: datetime | None
    schedule: str
    timezone: str | None
    payload: Json
    next_run_date: datetime | None
    metadata: Json
    on_run_completed: Literal["delete", "keep"] | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
