"""The public surface: every LangGraph module path users import exists under actorgraph,
with an explicit tuple ``__all__`` whose names all resolve. Names LangGraph has that we
don't (yet) are listed here, so the surface can't drift silently."""

from __future__ import annotations

import importlib

import pytest

# module -> (names we provide, LangGraph names we deliberately don't provide yet)
SURFACE: dict[str, tuple[set[str], set[str]]] = {
    "actorgraph.graph": ({"END", "START", "StateGraph", "add_messages", "MessagesState", "MessageGraph"}, set()),
    "actorgraph.graph.state": ({"StateGraph", "CompiledStateGraph", "START", "END"}, set()),
    "actorgraph.graph.message": ({"add_messages", "MessagesState", "MessageGraph", "REMOVE_ALL_MESSAGES", "push_message"}, set()),
    "actorgraph.types": (
        {
            "All", "CachePolicy", "Command", "Durability", "GraphOutput", "Interrupt", "Overwrite",
            "PregelTask", "RetryPolicy", "Send", "StateSnapshot", "StateUpdate", "StreamMode",
            "StreamWriter", "TimeoutPolicy", "interrupt", "default_retry_on", "TracePolicy", "omit_payload",
            "StreamPart", "ValuesStreamPart", "UpdatesStreamPart", "MessagesStreamPart",
            "CustomStreamPart", "CheckpointStreamPart", "TasksStreamPart", "DebugStreamPart",
            "TaskPayload", "TaskResultPayload", "CheckpointTask", "CheckpointPayload", "DebugPayload",
            "Checkpointer", "PregelExecutableTask", "ensure_valid_checkpointer",
        },
        set(),
    ),
    "actorgraph.constants": ({"TAG_NOSTREAM", "TAG_HIDDEN", "START", "END", "CONF", "TASKS", "CONFIG_KEY_CHECKPOINTER"}, set()),
    "actorgraph.func": ({"task", "entrypoint"}, set()),
    "actorgraph.runtime": ({"BaseUser", "ExecutionInfo", "RunControl", "Runtime", "ServerInfo", "get_runtime"}, set()),
    "actorgraph.callbacks": (
        {
            "GraphCallbackHandler", "GraphInterruptEvent", "GraphLifecycleEvent", "GraphLifecycleStatus",
            "GraphResumeEvent", "get_async_graph_callback_manager_for_config",
            "get_sync_graph_callback_manager_for_config",
        },
        set(),
    ),
    "actorgraph.pregel.remote": ({"RemoteGraph", "RemoteException"}, set()),
    "actorgraph.config": ({"RunnableConfig", "get_config", "get_store", "get_stream_writer"}, set()),
    "actorgraph.errors": (
        {
            "EmptyChannelError", "ErrorCode", "GraphRecursionError", "InvalidUpdateError", "GraphBubbleUp",
            "GraphInterrupt", "NodeCancelledError", "NodeInterrupt", "NodeTimeoutError", "ParentCommand",
            "EmptyInputError", "TaskNotFound", "UnknownInterruptError",
            # ours: the common base, compile errors (also ValueError), bad chat messages,
            # local image renderers
            "ActorGraphError", "CheckpointError", "CheckpointConflictError", "CheckpointNotFoundError", "ConfigError", "SerializationError", "GraphValidationError", "InvalidMessageError", "DrawingError",
            "RendererNotFoundError",
            # ours: the stores' namespace error (LangGraph has it in langgraph.store.base)
            "InvalidNamespaceError",
            "GraphDrained", "NodeError", "is_invalid_resume",
        },
        set(),
    ),
    "actorgraph.channels": (
        {
            "BaseChannel", "AnyValue", "LastValue", "LastValueAfterFinish", "UntrackedValue", "EphemeralValue",
            "BinaryOperatorAggregate", "NamedBarrierValue", "NamedBarrierValueAfterFinish", "Topic",
            "DeltaChannel",
        },
        set(),
    ),
    "actorgraph.channels.base": ({"BaseChannel"}, set()),
    "actorgraph.channels.delta": ({"DeltaChannel"}, set()),
    "actorgraph.channels.last_value": ({"LastValue", "LastValueAfterFinish"}, set()),
    "actorgraph.channels.any_value": ({"AnyValue"}, set()),
    "actorgraph.channels.ephemeral_value": ({"EphemeralValue"}, set()),
    "actorgraph.channels.untracked_value": ({"UntrackedValue"}, set()),
    "actorgraph.channels.topic": ({"Topic"}, set()),
    "actorgraph.channels.binop": ({"BinaryOperatorAggregate"}, set()),
    "actorgraph.channels.named_barrier_value": ({"NamedBarrierValue", "NamedBarrierValueAfterFinish"}, set()),
    "actorgraph.pregel": ({"Pregel", "NodeBuilder"}, set()),
    "actorgraph.pregel.main": ({"Pregel", "NodeBuilder"}, set()),
    "actorgraph.pregel.protocol": ({"PregelProtocol", "StreamProtocol"}, set()),
    "actorgraph.pregel.types": (
        {"All", "StateUpdate", "CachePolicy", "PregelExecutableTask", "PregelTask", "RetryPolicy", "StateSnapshot", "StreamMode", "StreamWriter", "default_retry_on"},
        set(),
    ),
    "actorgraph.pregel.debug": (
        {
            "COLOR_MAPPING", "TASK_NAMESPACE", "get_bolded_text", "get_colored_text", "is_multiple_channel_write",
            "map_task_result_writes", "rm_pregel_keys", "map_debug_tasks",
        },
        set(),
    ),
    "actorgraph.managed": ({"IsLastStep", "RemainingSteps"}, set()),
    "actorgraph.managed.is_last_step": ({"IsLastStep", "RemainingSteps", "RemainingStepsManager"}, {"IsLastStepManager"}),
    "actorgraph.managed.base": ({"ManagedValueSpec", "ManagedValueMapping"}, set()),
    "actorgraph.messages": (
        {
            "AIMessage", "AnyMessage", "BaseMessage", "HumanMessage", "MessageContent", "RemoveMessage",
            "SystemMessage", "ToolCall", "ToolMessage", "coerce_message",
        },
        set(),
    ),
    "actorgraph.checkpoint.memory": ({"InMemorySaver", "MemorySaver", "PersistentDict"}, set()),
    "actorgraph.checkpoint.sqlite": ({"SqliteSaver"}, set()),
    "actorgraph.checkpoint.sqlite.aio": ({"AsyncSqliteSaver"}, set()),
    "actorgraph.checkpoint.sqlite.utils": ({"load_pending_writes", "pending_writes_sql", "search_where"}, set()),
    "actorgraph.checkpoint.postgres": ({"BasePostgresSaver", "Conn", "PostgresSaver", "ShallowPostgresSaver"}, set()),
    "actorgraph.checkpoint.postgres.aio": ({"AsyncPostgresSaver", "AsyncShallowPostgresSaver", "Conn"}, set()),
    "actorgraph.checkpoint.postgres.base": ({"BasePostgresSaver"}, set()),
    "actorgraph.checkpoint.base": (
        {
            "BaseCheckpointSaver", "Checkpoint", "CheckpointError", "CheckpointConflictError", "CheckpointNotFoundError", "CheckpointMetadata", "CheckpointTuple",
            "ChannelVersions", "ChannelProtocol", "DeltaChannelHistory", "EmptyChannelError", "EncryptedSerializer",
            "JsonPlusSerializer", "PendingWrite", "SerializerProtocol", "V", "ERROR", "INTERRUPT", "RESUME",
            "SCHEDULED", "EXCLUDED_METADATA_KEYS", "LATEST_VERSION", "WRITES_IDX_MAP", "copy_checkpoint",
            "create_checkpoint", "empty_checkpoint", "get_checkpoint_id", "get_checkpoint_metadata",
            "get_serializable_checkpoint_metadata", "id", "logger", "maybe_add_typed_methods", "uuid6",
            "writes_sort_key",
        },
        set(),
    ),
    "actorgraph.checkpoint.base.id": ({"UUID", "uuid6"}, set()),
    "actorgraph.checkpoint.serde": (set(), set()),
    "actorgraph.checkpoint.serde.base": (
        {"CipherProtocol", "SerializerCompat", "SerializerProtocol", "UntypedSerializerProtocol", "maybe_add_typed_methods"},
        set(),
    ),
    "actorgraph.checkpoint.serde.types": (
        {"ERROR", "INTERRUPT", "RESUME", "SCHEDULED", "TASKS", "ChannelProtocol", "SendProtocol", "_DeltaSnapshot"},
        set(),
    ),
    "actorgraph.checkpoint.serde.jsonplus": (
        {
            "EXT_CONSTRUCTOR_KW_ARGS", "EXT_CONSTRUCTOR_POS_ARGS", "EXT_CONSTRUCTOR_SINGLE_ARG", "EXT_DELTA_SNAPSHOT",
            "EXT_METHOD_SINGLE_ARG", "EXT_NUMPY_ARRAY", "EXT_PYDANTIC_V1", "EXT_PYDANTIC_V2", "InvalidModuleError",
            "JsonPlusSerializer",
        },
        set(),
    ),
    "actorgraph.checkpoint.serde.encrypted": ({"EncryptedSerializer"}, set()),
    "actorgraph.checkpoint.serde.event_hooks": (
        {"SerdeEvent", "SerdeEventListener", "emit_serde_event", "register_serde_event_listener"},
        set(),
    ),
    "actorgraph.store.memory": ({"InMemoryStore"}, set()),
    "actorgraph.store.sqlite": ({"SqliteStore", "AsyncSqliteStore"}, set()),
    "actorgraph.store.sqlite.aio": ({"AsyncSqliteStore"}, set()),
    "actorgraph.store.sqlite.base": ({"SqliteIndexConfig", "SqliteStore"}, set()),
    "actorgraph.store.postgres": ({"AsyncPostgresStore", "PoolConfig", "PostgresStore"}, set()),
    "actorgraph.store.postgres.aio": ({"AsyncPostgresStore"}, set()),
    "actorgraph.store.postgres.base": (
        {"ANNIndexConfig", "MIGRATIONS", "PoolConfig", "PostgresIndexConfig", "PostgresStore"},
        set(),
    ),
    "actorgraph.store.base": (
        {
            "BaseStore", "Item", "SearchItem", "PutOp", "GetOp", "SearchOp", "ListNamespacesOp", "MatchCondition",
            "NamespacePath", "NamespaceMatchType", "Op", "Result", "InvalidNamespaceError", "TTLConfig",
            "IndexConfig", "NotProvided", "NOT_PROVIDED", "validate_op_namespace",
            "Embeddings", "ensure_embeddings", "tokenize_path", "get_text_at_path",
        },
        set(),
    ),
    "actorgraph.store.base.batch": ({"AsyncBatchedBaseStore"}, set()),
    "actorgraph.store.base.embed": ({"AEmbeddingsFunc", "EmbeddingsFunc", "ensure_embeddings"}, set()),
    "actorgraph.cache.memory": ({"InMemoryCache"}, set()),
    "actorgraph.cache.base": ({"BaseCache", "FullKey", "Namespace", "ValueT"}, set()),
    "actorgraph.cache.redis": ({"RedisCache"}, set()),
    "actorgraph.cache.sqlite": ({"SqliteCache"}, set()),
    "actorgraph.persistence": ({"SerializationError", "Serializer", "register_type"}, set()),
    "actorgraph.warnings": (
        {"LangGraphDeprecationWarning", "LangGraphDeprecatedSinceV05", "LangGraphDeprecatedSinceV10", "LangGraphDeprecatedSinceV11"},
        set(),
    ),
    "actorgraph.prebuilt": (
        {
            "InjectedState", "InjectedStore", "ToolNode", "ToolRuntime", "ValidationNode", "create_react_agent",
            "tools_condition", "ToolCallTransformer",
        },
        set(),
    ),
    "actorgraph.prebuilt.chat_agent_executor": (
        {
            "AgentState", "AgentStatePydantic", "AgentStateWithStructuredResponse",
            "AgentStateWithStructuredResponsePydantic", "create_react_agent", "create_tool_calling_executor",
            "PROMPT_RUNNABLE_NAME", "Prompt", "StateSchema", "StateSchemaType", "StructuredResponse",
            "StructuredResponseSchema",
        },
        set(),
    ),
    "actorgraph.prebuilt.tool_node": (
        {
            "ToolNode", "tools_condition", "InjectedState", "InjectedStore", "ToolRuntime", "ToolCallRequest",
            "ToolCallWrapper", "AsyncToolCallWrapper", "ToolCallWithContext", "ToolInvocationError",
            "msg_content_output", "INVALID_TOOL_NAME_ERROR_TEMPLATE", "TOOL_CALL_ERROR_TEMPLATE",
            "TOOL_EXECUTION_ERROR_TEMPLATE", "TOOL_INVOCATION_ERROR_TEMPLATE", "RunnableCallable",
        },
        set(),
    ),
    "actorgraph.prebuilt.tool_validator": ({"ValidationNode", "RunnableCallable"}, set()),
    "actorgraph.prebuilt.interrupt": ({"ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse"}, set()),
    "actorgraph.stream": (
        {
            "AsyncGraphRunStream", "AsyncSubgraphRunStream", "CheckpointsTransformer", "CustomTransformer",
            "DebugTransformer", "GraphRunStream", "LifecyclePayload", "LifecycleTransformer", "ProtocolEvent",
            "StreamChannel", "StreamTransformer", "SubgraphRunStream", "SubgraphStatus", "SubgraphTransformer",
            "TasksTransformer", "UpdatesTransformer",
        },
        set(),
    ),
    "actorgraph.stream.stream_channel": ({"StreamChannel"}, set()),
    "actorgraph.stream.run_stream": (
        {
            "AsyncGraphRunStream", "AsyncSubgraphRunStream", "GraphRunStream", "SubgraphRunStream", "ProtocolEvent",
            "StreamMux", "convert_to_protocol_event",
        },
        set(),
    ),
    "actorgraph.stream.transformers": (
        {
            "CheckpointsTransformer", "CustomTransformer", "DebugTransformer", "LifecycleCause", "LifecyclePayload",
            "LifecycleTransformer", "MessagesTransformer", "SubgraphStatus", "SubgraphTransformer",
            "TasksTransformer", "UpdatesTransformer", "ValuesTransformer", "ProtocolEvent", "StreamTransformer",
        },
        set(),
    ),
    "actorgraph.typing": (
        {
            "StateT", "StateT_co", "StateT_contra", "InputT", "OutputT", "ContextT", "ContextT_contra",
            "NodeInputT", "NodeInputT_contra",
        },
        set(),
    ),
    "actorgraph.utils": (set(), set()),
    "actorgraph.utils.config": ({"ensure_config", "get_config", "get_store", "patch_configurable"}, set()),
    "actorgraph.utils.runnable": ({"RunnableCallable"}, set()),
}


@pytest.mark.parametrize("module_name", sorted(SURFACE))
def test_module_exports_its_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, tuple), f"{module_name}.__all__ must be a tuple"
    assert len(set(exported)) == len(exported), f"{module_name}.__all__ has duplicates"
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names {name!r}, which doesn't exist"
    provided, missing = SURFACE[module_name]
    assert provided <= set(exported), f"{module_name} lost {sorted(provided - set(exported))}"
    unlisted = set(exported) - provided
    assert not unlisted, f"{module_name} exports {sorted(unlisted)}: add them to SURFACE"
    assert not (missing & set(exported)), f"{module_name} now has {sorted(missing & set(exported))}: move them to provided"


def test_private_modules_do_not_leak_into_the_package_root() -> None:
    import actorgraph

    assert actorgraph.__all__ == ("__version__", "install_as_langgraph")
