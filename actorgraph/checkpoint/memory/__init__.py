"""Import-compatible path `actorgraph.checkpoint.memory`: not built yet (persistence is issue 4)."""

__all__: tuple[str, ...] = ()
