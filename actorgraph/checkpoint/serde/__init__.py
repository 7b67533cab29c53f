"""Import-compatible path: serializers for checkpoints (re-exports only)."""

__all__ = ()
