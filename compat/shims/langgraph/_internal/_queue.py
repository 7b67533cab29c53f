"""Stand-in for ``langgraph._internal._queue`` (compat run only): a placeholder that
raises when used; actorgraph's streams don't use LangGraph's queue."""


class AsyncQueue:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no AsyncQueue (compat placeholder)")

    async def wait(self) -> None:
        raise NotImplementedError("actorgraph has no AsyncQueue (compat placeholder)")
