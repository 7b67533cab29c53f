"""Stand-in for ``langgraph._internal._pydantic`` (compat run only): placeholders for
LangGraph's private pydantic model factory."""


def create_model(*args: object, **kwargs: object) -> object:
    raise NotImplementedError("LangGraph's private create_model has no counterpart (compat placeholder)")


def is_supported_by_pydantic(*args: object, **kwargs: object) -> object:
    raise NotImplementedError("LangGraph's private is_supported_by_pydantic has no counterpart (compat placeholder)")
