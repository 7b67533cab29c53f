"""Side-by-side benchmarks of actorgraph against LangGraph (``python -m benchmarks``).

Layout: ``shim`` picks the library, ``registry`` holds scenarios, ``scenarios/`` defines
them, ``worker`` measures one run in a fresh process, ``run`` orchestrates, ``report`` prints.
"""
