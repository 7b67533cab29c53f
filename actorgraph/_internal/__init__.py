"""Private LangGraph names that libraries built on LangGraph import (``langgraph._internal.*``).

``install_as_langgraph()`` serves ``langgraph._internal.X`` from here. Nothing in actorgraph
uses these modules and they are not API: each holds only what a named library imports at
its top, mapped to actorgraph's own equivalent (no LangGraph code):

- ``_runnable``: ``RunnableCallable`` (langchain 1.x ``create_agent`` wraps its model and
  middleware nodes in it; langgraph-supervisor its supervisor's model call) and
  ``RunnableLike`` (langgraph-supervisor's annotations).
- ``_config``: ``patch_configurable`` (langgraph-supervisor, forwarding a handoff's config).
- ``_typing``: ``DeprecatedKwargs`` (langgraph-supervisor and langgraph-swarm annotate
  ``**kwargs`` with it).
"""
