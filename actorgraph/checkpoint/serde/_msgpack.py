"""Import-compatible path: the msgpack allow-list rules. This module *is*
``actorgraph.persistence._serde_policy``, so setting ``STRICT_MSGPACK_ENABLED`` here sets
it for every serializer built afterwards."""

import sys

from actorgraph.persistence import _serde_policy

sys.modules[__name__] = _serde_policy
