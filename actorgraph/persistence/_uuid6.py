"""Time-ordered UUIDs (version 6, RFC 9562): a 100-ns timestamp first, so sorting ids
sorts what they name by creation time. Checkpoint ids are these."""

from __future__ import annotations

import os
import threading
import time
import uuid

__all__ = ("UUID", "uuid6")

_GREGORIAN_OFFSET = 0x01B21DD213814000  # 100-ns intervals from 1582-10-15 to 1970-01-01
_lock = threading.Lock()
_last_v6_timestamp: int | None = None


class UUID(uuid.UUID):
    """A UUID whose ``time`` reads the timestamp of versions 6, 7 and 8 too."""

    __slots__ = ()

    @property
    def subsec(self) -> int:
        return ((self.int >> 64) & 0x0FFF) << 8 | ((self.int >> 54) & 0xFF)

    @property
    def time(self) -> int:
        if self.version == 6:
            return (self.time_low << 28) | (self.time_mid << 12) | (self.time_hi_version & 0x0FFF)
        if self.version == 7:
            return self.int >> 80
        if self.version == 8:
            return (self.int >> 80) * 10**6 + -(-self.subsec * 10**6 // 2**20)
        return super().time


def uuid6(node: int | None = None, clock_seq: int | None = None) -> UUID:
    """A new version-6 UUID; strictly increasing within this process. ``node`` (48 bits)
    and ``clock_seq`` (14 bits) are random unless given."""
    global _last_v6_timestamp
    with _lock:
        ts = time.time_ns() // 100 + _GREGORIAN_OFFSET
        if _last_v6_timestamp is not None and ts <= _last_v6_timestamp:
            ts = _last_v6_timestamp + 1
        _last_v6_timestamp = ts
    if clock_seq is None:
        clock_seq = int.from_bytes(os.urandom(2), "big")
    if node is None:
        node = int.from_bytes(os.urandom(6), "big")
    value = ((ts >> 12) << 80) | (0x6 << 76) | ((ts & 0x0FFF) << 64)
    value |= (0x2 << 62) | ((clock_seq & 0x3FFF) << 48) | (node & 0xFFFFFFFFFFFF)
    return UUID(int=value)
