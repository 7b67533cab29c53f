"""Placeholder run manager (replaced by the queue and workers)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

__all__ = ("RunManager",)


class RunManager:
    def __init__(self, c: Any, *, n_jobs: int) -> None:
        self.c = c
        self.n_jobs = n_jobs

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        yield

    async def cancel_thread(self, thread_id: str) -> None:
        return None
