"""Import-compatible path `actorgraph.checkpoint.sqlite`: not built yet (persistence is issue 4)."""

__all__: tuple[str, ...] = ()
