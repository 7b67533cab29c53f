"""Savers take LangGraph's serializers (known-gaps #54): ``serde=`` at construction or
``saver.serde = ...`` later; ``EncryptedSerializer.from_pycryptodome_aes()`` keeps values
encrypted at rest; an old-style ``dumps``/``loads`` serializer is wrapped; the
``JsonPlusSerializer`` allow-list knobs decide what is rebuilt."""

from __future__ import annotations

import dataclasses
import json
import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from actorgraph.checkpoint.base import BaseCheckpointSaver
from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.serde.base import SerializerCompat
from actorgraph.checkpoint.serde.encrypted import EncryptedSerializer
from actorgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.graph import START, StateGraph
from actorgraph.types import Command, interrupt

KEY = b"0123456789abcdef"
SECRET = "the-secret-value-4711"


class S(TypedDict):
    log: Annotated[list, operator.add]


def cfg(thread: str = "1") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def asking(saver: Any) -> Any:
    def ask(s: S) -> S:
        return {"log": ["answer:" + interrupt("q")]}

    return StateGraph(S).add_node("ask", ask).add_edge(START, "ask").compile(checkpointer=saver)


def test_an_encrypted_serializer_set_after_construction_encrypts_everything_stored(tmp_path: Path) -> None:
    path = tmp_path / "enc.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        saver.serde = EncryptedSerializer.from_pycryptodome_aes(key=KEY)
        app = asking(saver)
        app.invoke({"log": [SECRET]}, cfg())
        assert app.invoke(Command(resume=SECRET + "!"), cfg())["log"] == [SECRET, f"answer:{SECRET}!"]
        assert app.get_state(cfg()).values["log"][0] == SECRET
    raw = path.read_bytes() + (tmp_path / "enc.db-wal").read_bytes() if (tmp_path / "enc.db-wal").exists() else path.read_bytes()
    assert SECRET.encode() not in raw
    with sqlite3.connect(path) as conn:
        kinds = {r[0] for r in conn.execute("SELECT DISTINCT type FROM writes")}
    assert kinds and all(k.endswith("+aes") for k in kinds)
    # without the key the values can't be read back
    with SqliteSaver.from_conn_string(str(path)) as saver:
        with pytest.raises(Exception):
            asking(saver).get_state(cfg())


def test_from_pycryptodome_aes_reads_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGGRAPH_AES_KEY", KEY.decode())
    serde = EncryptedSerializer.from_pycryptodome_aes()
    kind, data = serde.dumps_typed({"v": SECRET})
    assert kind == "msgpack+aes" and SECRET.encode() not in data
    assert serde.loads_typed((kind, data)) == {"v": SECRET}
    assert serde.loads_typed(JsonPlusSerializer().dumps_typed({"plain": 1})) == {"plain": 1}
    monkeypatch.setenv("LANGGRAPH_AES_KEY", "short")
    with pytest.raises(ValueError, match="16, 24, or 32"):
        EncryptedSerializer.from_pycryptodome_aes()
    monkeypatch.delenv("LANGGRAPH_AES_KEY")
    with pytest.raises(ValueError, match="LANGGRAPH_AES_KEY"):
        EncryptedSerializer.from_pycryptodome_aes()


def test_in_memory_saver_takes_serde_at_construction() -> None:
    saver = InMemorySaver(serde=EncryptedSerializer.from_pycryptodome_aes(key=KEY))
    app = asking(saver)
    app.invoke({"log": ["x"]}, cfg())
    assert app.invoke(Command(resume="y"), cfg())["log"] == ["x", "answer:y"]
    stored = [v for bucket in saver.writes.values() for (_, _, v, _) in bucket.values()]
    assert stored and all(kind.endswith("+aes") for kind, _ in stored)


class JsonOnly:
    """An old-style serializer: dumps/loads only."""

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(obj).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


def test_an_untyped_serializer_is_wrapped_and_used() -> None:
    saver = InMemorySaver(serde=JsonOnly())  # type: ignore[arg-type]
    assert isinstance(saver.serde, SerializerCompat)
    app = StateGraph(S).add_node("n", lambda s: {"log": ["n"]}).add_edge(START, "n").compile(checkpointer=saver)
    app.invoke({"log": ["x"]}, cfg())
    assert app.invoke({"log": ["y"]}, cfg())["log"] == ["x", "n", "y", "n"]
    assert app.get_state(cfg()).values == {"log": ["x", "n", "y", "n"]}


@dataclasses.dataclass
class Note:
    text: str


def test_with_allowlist_gives_a_copy_whose_serializer_rebuilds_more_classes() -> None:
    saver = InMemorySaver(serde=JsonPlusSerializer(allowed_msgpack_modules=None))
    proxy = saver.with_allowlist([(Note.__module__, Note.__name__)])
    assert proxy is not saver and proxy.serde is not saver.serde
    data = saver.serde.dumps_typed(Note("hi"))
    assert proxy.serde.loads_typed(data) == Note("hi")
    assert saver.serde.loads_typed(data) == {"text": "hi"}
    assert isinstance(proxy, BaseCheckpointSaver)


def test_strict_mode_from_the_environment_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from actorgraph.checkpoint.serde import _msgpack

    monkeypatch.setattr(_msgpack, "STRICT_MSGPACK_ENABLED", True)
    strict = JsonPlusSerializer()
    assert strict.loads_typed(strict.dumps_typed(Note("x"))) == {"text": "x"}
    monkeypatch.setattr(_msgpack, "STRICT_MSGPACK_ENABLED", False)
    lenient = JsonPlusSerializer()
    assert lenient.loads_typed(lenient.dumps_typed(Note("x"))) == Note("x")
