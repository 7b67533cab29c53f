"""Stand-in for ``langgraph.pregel._utils`` (compat run only): a placeholder for
LangGraph's private closure walker (actorgraph finds a node's subgraph its own way)."""


def get_function_nonlocals(*args: object, **kwargs: object) -> object:
    raise NotImplementedError("LangGraph's private get_function_nonlocals has no counterpart (compat placeholder)")
