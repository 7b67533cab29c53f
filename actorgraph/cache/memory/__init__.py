"""Import-compatible path `actorgraph.cache.memory`: not built yet (persistence is issue 4)."""

__all__: tuple[str, ...] = ()
