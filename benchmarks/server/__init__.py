"""Server benchmark: ``langgraph dev`` and ``actorgraph dev`` side by side, driven by the
official ``langgraph-sdk`` client (``python -m benchmarks.server``; see benchmarks/README.md)."""
