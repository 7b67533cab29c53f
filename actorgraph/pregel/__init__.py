"""The low-level graph API (``langgraph.pregel``) and graphs that run elsewhere
(``actorgraph.pregel.remote.RemoteGraph``)."""

__all__ = ()
