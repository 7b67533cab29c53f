"""Stand-in for ``langgraph.pregel._loop`` (compat run only). LangGraph's loop classes
have no counterpart in actorgraph (its engine is actors and a barrier): placeholders
that raise when used. No object of theirs ever exists."""


class PregelLoop:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no PregelLoop (compat placeholder)")

    def put_writes(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no PregelLoop (compat placeholder)")


class SyncPregelLoop(PregelLoop):
    pass


class AsyncPregelLoop(PregelLoop):
    pass
