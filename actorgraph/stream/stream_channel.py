"""Import-compatible path for ``StreamChannel`` (``langgraph.stream.stream_channel``)."""

from actorgraph.stream._channel import StreamChannel

__all__ = ("StreamChannel",)
