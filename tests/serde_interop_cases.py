"""Values for tests/test_serde_langgraph_interop.py, shared with the LangGraph side (this
module is also run there, so it imports only the stdlib and, under ``__main__``, LangGraph).

``python tests/serde_interop_cases.py make`` (with LangGraph and pycryptodome installed)
printed tests/data/langgraph_serde.json: each value as LangGraph's ``JsonPlusSerializer``
and ``EncryptedSerializer.from_pycryptodome_aes()`` (key ``KEY``) wrote it.
``python tests/serde_interop_cases.py read FILE`` reads a file of the same shape written
by actorgraph with LangGraph's serializers and prints the names that differ (JSON)."""

from __future__ import annotations

import base64
import datetime
import json
import os
import sys
import uuid
from typing import Any

KEY = "0123456789abcdef0123456789abcdef"  # LANGGRAPH_AES_KEY: 32 bytes, AES-256

VALUES: dict[str, Any] = {
    "dict": {"a": 1, "b": [1, 2.5, "x"], "nested": {"ok": True, "none": None}},
    "str": "hello, wörld",
    "bytes": b"\x00\x01raw",
    "float": 3.25,
    "none": None,
    "list": [1, "two", [3]],
    "datetime": datetime.datetime(2024, 5, 17, 12, 30, 45, 123456, tzinfo=datetime.timezone.utc),
    "date": datetime.date(2024, 5, 17),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "set": {1, 2, 3},
    "tuple": (1, "a"),
}

# what both libraries read back where it isn't the value written: msgpack has no tuple
READ_BACK: dict[str, Any] = {**VALUES, "tuple": [1, "a"]}


def _serializers() -> tuple[Any, Any]:
    os.environ["LANGGRAPH_AES_KEY"] = KEY
    from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return EncryptedSerializer.from_pycryptodome_aes(), JsonPlusSerializer()


def dump_all(encrypted: Any, plain: Any) -> dict[str, dict[str, list[str]]]:
    out = {}
    for name, value in VALUES.items():
        t1, b1 = encrypted.dumps_typed(value)
        t2, b2 = plain.dumps_typed(value)
        out[name] = {"encrypted": [t1, base64.b64encode(b1).decode()], "plain": [t2, base64.b64encode(b2).decode()]}
    return out


def differences(data: dict[str, Any], encrypted: Any, plain: Any) -> list[str]:
    bad = []
    for name, want in READ_BACK.items():
        for mode, serde in (("encrypted", encrypted), ("plain", plain)):
            typ, b64 = data[name][mode]
            got = serde.loads_typed((typ, base64.b64decode(b64)))
            if got != want or type(got) is not type(want):
                bad.append(f"{name}/{mode}: {got!r}")
    return bad


if __name__ == "__main__":
    enc, plain = _serializers()
    if sys.argv[1] == "make":
        print(json.dumps(dump_all(enc, plain), indent=1, sort_keys=True))
    else:
        with open(sys.argv[2]) as f:
            print(json.dumps(differences(json.load(f), enc, plain)))
