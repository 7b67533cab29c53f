"""Import-compatible path: the node-cache interface."""

from actorgraph.persistence._cache import BaseCache, FullKey, Namespace, ValueT

__all__ = ("BaseCache", "FullKey", "Namespace", "ValueT")
