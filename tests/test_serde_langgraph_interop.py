"""Checkpoints move between LangGraph and actorgraph through the serializers (#54): bytes
LangGraph's ``JsonPlusSerializer`` and ``EncryptedSerializer`` wrote (a fixture, made once
with LangGraph: see tests/serde_interop_cases.py) read back with ours, and LangGraph reads
what ours write (run in a LangGraph virtualenv when one is available) - except tuples,
which ours keep as tuples in a record LangGraph reads as None."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import serde_interop_cases as cases
from actorgraph.checkpoint.serde.encrypted import EncryptedSerializer
from actorgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

HERE = Path(__file__).parent
FIXTURE = json.loads((HERE / "data" / "langgraph_serde.json").read_text())
# Deliberate (persistence/_serde.py): our serializer keeps tuples as tuples, in an
# extension record (code 64) LangGraph doesn't know; LangGraph reads it as None. Asserted
# exactly, so a change either way shows up here.
TUPLE_DIFFERENCES = ["tuple/encrypted: (1, 'a')", "tuple/plain: (1, 'a')"]
LANGGRAPH_TUPLE_DIFFERENCES = ["tuple/encrypted: None", "tuple/plain: None"]
LANGGRAPH_PYTHON = Path(os.environ.get("ACTORGRAPH_LANGGRAPH_PYTHON", "/root/venvs/lg/bin/python"))


@pytest.fixture
def ours(monkeypatch: pytest.MonkeyPatch) -> tuple[EncryptedSerializer, JsonPlusSerializer]:
    monkeypatch.setenv("LANGGRAPH_AES_KEY", cases.KEY)
    return EncryptedSerializer.from_pycryptodome_aes(), JsonPlusSerializer()


def test_the_fixture_holds_every_value_in_langgraph_s_type_names() -> None:
    assert set(FIXTURE) == set(cases.VALUES)
    assert FIXTURE["dict"]["encrypted"][0] == "msgpack+aes" and FIXTURE["bytes"]["encrypted"][0] == "bytes+aes"
    assert FIXTURE["none"]["plain"][0] == "null"


def test_what_langgraph_wrote_reads_back_with_our_serializers(ours: tuple[EncryptedSerializer, JsonPlusSerializer]) -> None:
    assert cases.differences(FIXTURE, *ours) == []


def test_our_encrypted_bytes_name_langgraph_s_types_and_decrypt_with_ours(
    ours: tuple[EncryptedSerializer, JsonPlusSerializer],
) -> None:
    written = cases.dump_all(*ours)
    for name in cases.VALUES:
        assert written[name]["encrypted"][0] == FIXTURE[name]["encrypted"][0], name
        assert written[name]["plain"][0] == FIXTURE[name]["plain"][0], name
    assert cases.differences(written, *ours) == TUPLE_DIFFERENCES  # a tuple reads back a tuple here


def test_another_key_fails_to_decrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGGRAPH_AES_KEY", "f" * 32)
    other = EncryptedSerializer.from_pycryptodome_aes()
    typ, b64 = FIXTURE["dict"]["encrypted"]
    import base64

    with pytest.raises(ValueError, match="MAC check failed"):
        other.loads_typed((typ, base64.b64decode(b64)))


def test_langgraph_reads_what_our_serializers_wrote(
    ours: tuple[EncryptedSerializer, JsonPlusSerializer], tmp_path: Path
) -> None:
    if not LANGGRAPH_PYTHON.exists():
        pytest.skip(f"no LangGraph python at {LANGGRAPH_PYTHON} (set ACTORGRAPH_LANGGRAPH_PYTHON)")
    data = tmp_path / "ours.json"
    data.write_text(json.dumps(cases.dump_all(*ours)))
    proc = subprocess.run(
        [str(LANGGRAPH_PYTHON), str(HERE / "serde_interop_cases.py"), "read", str(data)],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=tmp_path,
    )
    if "Pycryptodome is not installed" in proc.stderr:
        pytest.skip(f"the LangGraph python at {LANGGRAPH_PYTHON} lacks pycryptodome")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == LANGGRAPH_TUPLE_DIFFERENCES
