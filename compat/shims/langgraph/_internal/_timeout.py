"""Stand-in for ``langgraph._internal._timeout`` (compat run only): coercing a timeout is
``TimeoutPolicy.coerce``, actorgraph's own."""

from actorgraph._types import TimeoutPolicy
from actorgraph.actors._policies import sync_timeout_unsupported  # noqa: F401

coerce_timeout_policy = TimeoutPolicy.coerce
