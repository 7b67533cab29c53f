"""Stand-in for ``langgraph.pregel._read`` (compat run only): LangGraph's PregelNode
wraps its runnables; actorgraph's nodes are NodeBuilder-built specs. A placeholder."""


class PregelNode:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("actorgraph has no PregelNode (compat placeholder)")
