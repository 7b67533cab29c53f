"""``RunnableConfig``: the config dict every run and node takes."""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ("RunnableConfig",)


class RunnableConfig(TypedDict, total=False):
    """Per-run settings. Same keys as LangChain's ``RunnableConfig``."""

    tags: list[str]
    metadata: dict[str, Any]
    callbacks: Any
    run_name: str
    max_concurrency: int | None
    recursion_limit: int
    configurable: dict[str, Any]
    run_id: Any
