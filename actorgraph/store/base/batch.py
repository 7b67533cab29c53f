"""Import-compatible path: ``AsyncBatchedBaseStore`` (async calls batched on a
background task)."""

from actorgraph.persistence._store_batch import AsyncBatchedBaseStore, _dedupe_ops

__all__ = ("AsyncBatchedBaseStore",)
