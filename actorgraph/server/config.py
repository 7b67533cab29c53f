"""``langgraph.json`` -> a typed :class:`ServerConfig`.

Read once at start: unknown keys warn (LangGraph's CLI has keys for building images that
mean nothing here), a bad value fails at once with a :class:`~actorgraph.errors.ConfigError`
that names the key.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from actorgraph.errors import ConfigError
from actorgraph.server._http_options import HttpOptions, parse_http_options

__all__ = ("GraphRef", "ServerConfig", "load_config", "read_env_file")

# keys LangGraph's CLI reads to build a container image: accepted, unused here
_IMAGE_KEYS = frozenset(
    {
        "$schema", "python_version", "node_version", "pip_config_file", "pip_installer",
        "dockerfile_lines", "image_distro", "base_image", "keep_pkg_tools", "api_version",
        "ui", "ui_config", "description", "disable_persistence",
    }
)
_KEYS = frozenset(
    {"graphs", "env", "dependencies", "store", "checkpointer", "http", "webhooks", "auth", "alias_langgraph", "encryption"}
)


class GraphRef(msgspec.Struct, frozen=True, kw_only=True):
    """Where a graph lives: ``module`` is a dotted module name or a file path (``file``
    true), ``attr`` the name of the graph (or builder, entrypoint, factory) in it."""

    graph_id: str
    module: str
    attr: str
    file: bool
    description: str | None = None


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed ``langgraph.json``. ``root`` is the folder it is in: relative paths
    (graph files, dependencies, an ``.env`` file) are taken from there."""

    root: str
    graphs: dict[str, GraphRef]
    env: dict[str, str] = {}
    dependencies: tuple[str, ...] = ()
    store: dict[str, Any] | None = None
    checkpointer: dict[str, Any] | None = None
    http: dict[str, Any] | None = None
    webhooks: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    alias_langgraph: bool = False
    http_options: HttpOptions = msgspec.field(default_factory=HttpOptions)
    """``http`` typed: the user's app, CORS, mount prefix, disabled route groups, body limit."""


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (``export``, quotes and ``#`` comments allowed)."""
    env: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"env file {path}: line {number} is not KEY=value: {raw!r}", key="env", value=raw)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        env[key] = value
    return env


def _graph_ref(graph_id: str, spec: Any) -> GraphRef:
    key = f"graphs.{graph_id}"
    description = None
    if isinstance(spec, Mapping):
        description = spec.get("description")
        spec = spec.get("path")
    if not isinstance(spec, str) or ":" not in spec:
        raise ConfigError(
            f"{key} must be 'path/to/file.py:name' or 'package.module:name', got {spec!r}", key=key, value=spec
        )
    module, _, attr = spec.rpartition(":")
    if not module or not attr.isidentifier():
        raise ConfigError(f"{key}: {spec!r} does not name a module and an attribute", key=key, value=spec)
    is_file = module.endswith(".py") or "/" in module or os.sep in module
    return GraphRef(graph_id=graph_id, module=module, attr=attr, file=is_file, description=description)


def _optional_mapping(data: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be an object, got {type(value).__name__}", key=key, value=value)
    return dict(value)


def parse_config(data: Any, root: Path, *, source: str = "langgraph.json") -> ServerConfig:
    """Check and type a loaded ``langgraph.json`` (``root``: the folder paths start from)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source} must hold a JSON object", key="", value=data)
    for key in data:
        if key not in _KEYS and key not in _IMAGE_KEYS:
            warnings.warn(f"{source}: unknown key {key!r} is ignored", stacklevel=3)
    graphs = data.get("graphs")
    if not isinstance(graphs, Mapping) or not graphs:
        raise ConfigError(f"{source}: 'graphs' must be a non-empty object of graph id -> path", key="graphs", value=graphs)
    refs = {str(gid): _graph_ref(str(gid), spec) for gid, spec in graphs.items()}

    env_value = data.get("env", {})
    if isinstance(env_value, str):
        env_path = root / env_value
        if not env_path.is_file():
            raise ConfigError(f"env: the file {env_value!r} does not exist (looked in {root})", key="env", value=env_value)
        env = read_env_file(env_path)
    elif isinstance(env_value, Mapping):
        env = {str(k): str(v) for k, v in env_value.items()}
    else:
        raise ConfigError("env must be an object of NAME -> value or the path of a .env file", key="env", value=env_value)

    deps = data.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise ConfigError("dependencies must be a list of strings", key="dependencies", value=deps)

    alias = data.get("alias_langgraph", False)
    if not isinstance(alias, bool):
        raise ConfigError("alias_langgraph must be true or false", key="alias_langgraph", value=alias)

    checkpointer = _optional_mapping(data, "checkpointer")
    if checkpointer is not None:
        ttl = checkpointer.get("ttl")
        if ttl is not None and not isinstance(ttl, Mapping):
            raise ConfigError("checkpointer.ttl must be an object", key="checkpointer.ttl", value=ttl)
        from actorgraph.server.retention import parse_thread_ttl

        parse_thread_ttl(ttl)
    store = _optional_mapping(data, "store")
    if store is not None:
        for sub in ("index", "ttl"):
            if store.get(sub) is not None and not isinstance(store[sub], Mapping):
                raise ConfigError(f"store.{sub} must be an object", key=f"store.{sub}", value=store[sub])
        from actorgraph.server.retention import parse_store_ttl

        parse_store_ttl(store.get("ttl"))
    webhooks = _optional_mapping(data, "webhooks")
    if webhooks is not None:
        from actorgraph.server.webhooks import parse_webhook_policy

        # checked now so a bad key fails at start; the headers' ${{ env.X }} may come from "env"
        parse_webhook_policy(webhooks, {**os.environ, **env})
    http = _optional_mapping(data, "http")
    auth = _optional_mapping(data, "auth")
    if auth is not None and auth.get("path") is not None and not isinstance(auth["path"], str):
        raise ConfigError("auth.path must be a string 'file.py:name'", key="auth.path", value=auth["path"])
    return ServerConfig(
        root=str(root),
        graphs=refs,
        env=env,
        dependencies=tuple(deps),
        store=store,
        checkpointer=checkpointer,
        http=http,
        webhooks=webhooks,
        auth=auth,
        alias_langgraph=alias,
        # the process's environment wins over the config's env, as ``prepare`` sets it
        http_options=parse_http_options(http, {**env, **os.environ}),
    )


def load_config(path: str | os.PathLike[str]) -> ServerConfig:
    """Read and check a ``langgraph.json``; a bad value raises ``ConfigError`` naming it."""
    file = Path(path).resolve()
    if not file.is_file():
        raise ConfigError(f"no config file at {file}", key="config", value=str(path))
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{file.name} is not valid JSON: {exc}", key="config", value=str(path)) from None
    return parse_config(data, file.parent, source=file.name)
