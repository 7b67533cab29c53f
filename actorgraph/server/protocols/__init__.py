"""The agent protocols beside the LangGraph Server API: MCP (``/mcp``: each assistant
as a tool) and A2A (``/a2a/{assistant_id}``: each assistant as an agent). Each has one
function that mounts it on the app, so a config flag can leave it out."""

from __future__ import annotations

import importlib.util

import structlog
from starlette.applications import Starlette

__all__ = ("mount_a2a", "mount_mcp")

log = structlog.get_logger("actorgraph.server")


def mount_mcp(app: Starlette) -> bool:
    """Serve ``/mcp`` on ``app``; ``False`` (and nothing mounted) when the ``mcp``
    package (the ``mcp`` extra) isn't installed."""
    if importlib.util.find_spec("mcp") is None:
        log.info("MCP is off: the mcp package is not installed (pip install 'actorgraph[mcp]')")
        return False
    from ._mcp import mount_mcp as mount

    mount(app)
    return True


def mount_a2a(app: Starlette) -> bool:
    """Serve ``/a2a/{assistant_id}`` (JSON-RPC and its agent card) on ``app``."""
    from ._a2a import mount_a2a as mount

    mount(app)
    return True
