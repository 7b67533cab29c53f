"""Assistants: one system assistant per graph (LangGraph's deterministic id), user-made
ones with versions, and what a graph looks like (drawing, schemas, subgraphs)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from actorgraph.server._context import ServerContext, now
from actorgraph.server._errors import ApiError
from actorgraph.server.graphs import assistant_id_for_graph
from actorgraph.server.schemas import Assistant, AssistantCreate, AssistantPatch, GraphSchemas
from actorgraph.server.storage import Conflict

__all__ = (
    "create", "ensure_system_assistants", "get", "graph_drawing", "graph_schemas", "resolve_id", "subgraph_schemas", "update",
)


async def ensure_system_assistants(c: ServerContext) -> None:
    stamp = now()
    for graph_id in c.graphs.ids():
        await c.storage.assistant_insert(
            Assistant(
                assistant_id=assistant_id_for_graph(graph_id),
                graph_id=graph_id,
                config={},
                context={},
                metadata={"created_by": "system"},
                created_at=stamp,
                updated_at=stamp,
                version=1,
                name=graph_id,
                description=c.graphs.description(graph_id),
            ),
            if_exists="do_nothing",
        )


def resolve_id(c: ServerContext, assistant_id: str, *, graph_id_ok: bool = True) -> str:
    """A UUID, or (where LangGraph's server takes one: runs, a graph's drawing and
    schemas) a graph id standing for its system assistant."""
    if graph_id_ok and assistant_id in c.graphs:
        return assistant_id_for_graph(assistant_id)
    try:
        return str(uuid.UUID(assistant_id))
    except ValueError:
        raise ApiError(422, f"Invalid assistant ID: must be a UUID, got {assistant_id!r}") from None


async def get(c: ServerContext, assistant_id: str, *, graph_id_ok: bool = False) -> Assistant:
    found = await c.storage.assistant_get(resolve_id(c, assistant_id, graph_id_ok=graph_id_ok))
    if found is None:
        raise ApiError(404, f"Assistant '{assistant_id}' not found")
    return found


def _check_graph(c: ServerContext, graph_id: str) -> None:
    if graph_id not in c.graphs:
        raise ApiError(404, f"Graph '{graph_id}' not found. Expected one of: {sorted(c.graphs.ids())}")


def _mirror(config: dict[str, Any], context: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """LangGraph's server keeps ``config.configurable`` and ``context`` in step: each
    given one fills the other."""
    merged = {**(config.get("configurable") or {}), **(context or {})}
    if merged:
        config = {**config, "configurable": merged}
    return config, dict(merged)


def _check_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    config = dict(config or {})
    configurable = config.get("configurable")
    if configurable is not None and not isinstance(configurable, Mapping):
        raise ApiError(422, "Invalid request body: config.configurable must be an object")
    return config


async def create(c: ServerContext, body: AssistantCreate) -> Assistant:
    assistant_id = body.assistant_id or str(uuid.uuid4())
    try:
        assistant_id = str(uuid.UUID(assistant_id))
    except ValueError:
        raise ApiError(422, f"Invalid assistant ID: must be a UUID, got assistant_id={assistant_id!r}") from None
    _check_graph(c, body.graph_id)
    config, context = _mirror(_check_config(body.config), body.context)
    stamp = now()
    assistant = Assistant(
        assistant_id=assistant_id,
        graph_id=body.graph_id,
        config=config,
        context=context,
        metadata=dict(body.metadata or {}),
        created_at=stamp,
        updated_at=stamp,
        version=1,
        name=body.name or "Untitled",
        description=body.description,
    )
    try:
        return await c.storage.assistant_insert(assistant, if_exists=body.if_exists)
    except Conflict:
        raise ApiError(409, f"Assistant {assistant_id} already exists (if_exists='raise')") from None


async def update(c: ServerContext, assistant_id: str, body: AssistantPatch) -> Assistant:
    changes: dict[str, Any] = {}
    if body.graph_id is not None:
        _check_graph(c, body.graph_id)
        changes["graph_id"] = body.graph_id
    current = await get(c, assistant_id)
    if body.config is not None or body.context is not None:
        config = _check_config(body.config if body.config is not None else current.config)
        if body.config is not None and body.context is None:
            changes["config"], changes["context"] = _mirror(config, None)
        else:
            changes["config"], changes["context"] = _mirror(
                {k: v for k, v in config.items() if k != "configurable"} if body.config is None else config, body.context
            )
    if body.metadata is not None:
        changes["metadata"] = {**current.metadata, **body.metadata}
    if body.name is not None:
        changes["name"] = body.name
    if body.description is not None:
        changes["description"] = body.description
    updated = await c.storage.assistant_update(current.assistant_id, changes, now())
    if updated is None:
        raise ApiError(404, f"Assistant '{assistant_id}' not found")
    return updated


def _run_config(assistant: Assistant) -> dict[str, Any]:
    config = dict(assistant.config)
    config["configurable"] = {**(assistant.config.get("configurable") or {}), **assistant.context}
    return config


def parse_xray(raw: str | None) -> bool | int:
    if raw is None or raw == "" or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"Invalid query parameter 'xray': {raw!r} is not a boolean or an integer") from None
    if value < 0:
        raise ApiError(422, "Invalid query parameter 'xray': must be 0 or more")
    return value


async def graph_drawing(c: ServerContext, assistant_id: str, xray: bool | int) -> dict[str, Any]:
    assistant = await get(c, assistant_id, graph_id_ok=True)
    async with c.graphs.graph(assistant.graph_id, _run_config(assistant)) as graph:
        drawable = graph.get_graph(_run_config(assistant), xray=xray)
        return drawable.to_json()  # type: ignore[no-any-return]


def _state_jsonschema(graph: Any) -> dict[str, Any] | None:
    builder = getattr(graph, "builder", None)
    state_schema = getattr(builder, "state_schema", None)
    if builder is None or state_schema is None:
        return None
    from actorgraph._jsonschema import model_jsonschema

    try:
        return model_jsonschema(state_schema, builder.schemas[state_schema], builder.channels, graph.get_name("State"))
    except Exception:
        return None


def _schemas_of(graph_id: str, graph: Any) -> GraphSchemas:
    def attempt(fn: Any) -> Any:
        try:
            return fn()
        except Exception:
            return None

    config_schema = None
    if callable(getattr(graph, "get_config_jsonschema", None)):
        config_schema = attempt(graph.get_config_jsonschema)
    return GraphSchemas(
        graph_id=graph_id,
        input_schema=attempt(graph.get_input_jsonschema),
        output_schema=attempt(graph.get_output_jsonschema),
        state_schema=_state_jsonschema(graph),
        config_schema=config_schema,
        context_schema=attempt(graph.get_context_jsonschema),
    )


async def graph_schemas(c: ServerContext, assistant_id: str) -> GraphSchemas:
    assistant = await get(c, assistant_id, graph_id_ok=True)
    async with c.graphs.graph(assistant.graph_id, _run_config(assistant)) as graph:
        return _schemas_of(assistant.graph_id, graph)


async def subgraph_schemas(
    c: ServerContext, assistant_id: str, namespace: str | None, recurse: bool
) -> dict[str, GraphSchemas]:
    assistant = await get(c, assistant_id, graph_id_ok=True)
    async with c.graphs.graph(assistant.graph_id, _run_config(assistant)) as graph:
        return {
            ns: _schemas_of(ns, sub) for ns, sub in graph.get_subgraphs(namespace=namespace, recurse=recurse)
        }
