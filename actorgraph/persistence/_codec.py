"""How a saver turns values into stored bytes with its serializer, whatever that is.

A saver's ``serde`` follows LangGraph's protocol: ``dumps_typed(value) -> (type, bytes)``.
Rows keep one ``bytes`` per value: MessagePack as it is, and any other type (``null``,
``bytes``, an encrypted ``msgpack+aes``, a user's own) wrapped in an envelope that
starts with 0xC1, a byte MessagePack never uses. With the default serializer the typed
step is skipped altogether: values go straight to MessagePack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from actorgraph.persistence._serde import JsonPlusSerializer, _msgpack_enc

__all__ = ("Codec", "make_codec", "typed", "untyped")

_MARK = b"\xc1"
_envelope_encode = msgspec.msgpack.Encoder().encode
_envelope_decode = msgspec.msgpack.Decoder(tuple[str, bytes]).decode


def typed(data: bytes) -> tuple[str, bytes]:
    """Stored bytes as the serializer's (type, bytes)."""
    if data[:1] == _MARK:
        return _envelope_decode(data[1:])
    return "msgpack", data


def untyped(pair: tuple[str, bytes]) -> bytes:
    """A serializer's (type, bytes) as stored bytes."""
    kind, data = pair
    if kind == "msgpack":
        return bytes(data)
    return _MARK + _envelope_encode((kind, bytes(data)))


class Codec:
    """``dumps(value) -> bytes`` and ``loads(bytes) -> value`` over one serializer."""

    __slots__ = ("serde", "dumps", "loads")

    def __init__(self, serde: Any, dumps: Callable[[Any], bytes], loads: Callable[[bytes], Any]) -> None:
        self.serde = serde
        self.dumps = dumps
        self.loads = loads


def make_codec(serde: Any) -> Codec:
    if type(serde) is JsonPlusSerializer and not serde._custom_unpack_ext_hook:
        plain = serde.loads

        def loads_fast(data: bytes) -> Any:
            if data[:1] == _MARK:
                return serde.loads_typed(_envelope_decode(data[1:]))
            return plain(data)

        return Codec(serde, _msgpack_enc, loads_fast)

    dumps_typed = serde.dumps_typed
    loads_typed = serde.loads_typed

    def dumps(value: Any) -> bytes:
        return untyped(dumps_typed(value))

    def loads(data: bytes) -> Any:
        return loads_typed(typed(data))

    return Codec(serde, dumps, loads)
