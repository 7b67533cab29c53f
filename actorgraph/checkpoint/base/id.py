"""Import-compatible path: time-ordered UUIDs (version 6)."""

from actorgraph.persistence._uuid6 import UUID, uuid6

__all__ = ("UUID", "uuid6")
