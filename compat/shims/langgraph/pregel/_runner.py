"""Stand-in for ``langgraph.pregel._runner`` (compat run only): a placeholder that
raises when used; actorgraph's tasks run on node actors, not a runner."""


class PregelRunner:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no PregelRunner (compat placeholder)")
