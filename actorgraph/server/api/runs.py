"""``/runs`` and ``/threads/{thread_id}/runs``."""

from __future__ import annotations

__all__ = ("ENDPOINTS",)

ENDPOINTS: tuple = ()
