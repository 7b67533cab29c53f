"""Import-compatible package (re-exports only)."""
