"""Import-compatible path `actorgraph.store.base`: not built yet (persistence is issue 4)."""

__all__: tuple[str, ...] = ()
