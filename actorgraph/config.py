"""Import-compatible path: reading the running node's config, store and stream writer."""

from actorgraph._config_types import RunnableConfig
from actorgraph.actors._context import get_config, get_store, get_stream_writer

__all__ = ("RunnableConfig", "get_config", "get_store", "get_stream_writer")
