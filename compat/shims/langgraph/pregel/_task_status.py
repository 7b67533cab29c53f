"""Stand-in for ``langgraph.pregel._task_status`` (compat run only): a placeholder for
LangGraph's private pending-writes reader."""


def read_task_statuses(*args: object, **kwargs: object) -> object:
    raise NotImplementedError("LangGraph's private read_task_statuses has no counterpart (compat placeholder)")
