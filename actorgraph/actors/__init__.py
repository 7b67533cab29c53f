"""The actor runtime: mailbox messages, node actors, the barrier, the dispatcher and the
run supervisor. Internal: the public API lives in ``actorgraph.graph``/``actorgraph.func``."""
