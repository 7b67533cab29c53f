"""The functional API (``@entrypoint`` / ``@task``): not built yet (tracked as issue 5)."""

__all__: tuple[str, ...] = ()
