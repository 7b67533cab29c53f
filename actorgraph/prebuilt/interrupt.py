"""Import-compatible path (``langgraph.prebuilt.interrupt``): the human-in-the-loop
request and response shapes."""

from actorgraph.prebuilt._human import ActionRequest, HumanInterrupt, HumanInterruptConfig, HumanResponse

__all__ = ("ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse")
