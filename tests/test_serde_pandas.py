"""pandas DataFrames and Series in a graph's state are stored as records of plain data (never
pickled) and read back exactly, through every saver; a dtype actorgraph doesn't rebuild is a
``SerializationError`` naming the key when writing, and when named by tampered data, reading."""

from __future__ import annotations

import datetime as dt
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import pytest

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.errors import SerializationError
from actorgraph.graph import START, StateGraph

FRAMES: dict[str, pd.DataFrame] = {
    "numbers": pd.DataFrame({
        "i8": np.array([1, -2, 3], dtype="int8"), "u16": np.array([1, 2, 3], dtype="uint16"),
        "i64": [-(2**63), 0, 2**63 - 1], "f32": np.array([1.5, np.nan, -0.0], dtype="float32"),
        "f64": [sys.float_info.min, np.inf, sys.float_info.max], "c": [1 + 2j, 0j, -1j],
        "b": [True, False, True],
    }),  # fmt: skip
    "strings_and_objects": pd.DataFrame({
        "s": ["a", None, "🌍"], "o": pd.Series([1, "x", {"k": [1, (2, 3)]}], dtype=object),
        "bytes": [b"\x00\x01", b"", b"z"], "sp": pd.array(["x", pd.NA, "z"], dtype="string"),
    }),  # fmt: skip
    "datetimes": pd.DataFrame({
        "naive_us": [dt.datetime(2024, 1, 1, 12, 30, 0, 5), dt.datetime(2024, 1, 2), None],
        "naive_ns": pd.to_datetime(["2024-01-01", None, "2024-03-01"]).as_unit("ns"),
        "utc": pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC"),
        "paris": pd.date_range("2024-03-30", periods=3, freq="h", tz="Europe/Paris"),
        "td": pd.to_timedelta([1, None, 3], unit="D"),
        "period": pd.period_range("2024-01", periods=3, freq="M"),
    }),  # fmt: skip
    "categorical_interval": pd.DataFrame({
        "cat": pd.Categorical(["a", "b", None], categories=["b", "a", "z"], ordered=True),
        "intcat": pd.Categorical([3, 1, 3]),
        "iv": pd.interval_range(start=0, end=3, periods=3, closed="both"),
        "fiv": pd.arrays.IntervalArray.from_tuples([(0.5, 1.0), None, (2.0, 3.5)]),
    }),  # fmt: skip
    "nullable": pd.DataFrame({
        "I64": pd.array([1, None, 3], dtype="Int64"), "U8": pd.array([None, 2, 3], dtype="UInt8"),
        "F32": pd.array([1.5, None, 2.0], dtype="Float32"), "B": pd.array([True, None, False], dtype="boolean"),
    }),  # fmt: skip
    "indexes": pd.DataFrame(
        [[1, 2, 3, 4], [5, 6, 7, 8]],
        index=pd.MultiIndex.from_tuples([("a", dt.date(2024, 1, 1)), ("b", dt.date(2024, 1, 2))], names=["k", None]),
        columns=pd.MultiIndex.from_tuples([("A", "X"), ("A", "Y"), ("B", "X"), ("B", "Y")], names=["up", "down"]),
    ),
    "named_and_freq_index": pd.DataFrame(
        {"v": [1.0, 2.0, 3.0]}, index=pd.date_range("2024-01-01", periods=3, freq="2D", name="day")
    ),
    "duplicate_columns_and_labels": pd.DataFrame([[1, "x"], [2, "y"]], columns=["a", "a"], index=[7, 7]),
    "empty": pd.DataFrame(),
    "empty_with_columns": pd.DataFrame({"a": pd.Series([], dtype="float32"), "b": pd.Series([], dtype=object)}),
    "range_index_step": pd.DataFrame({"x": [1, 2]}, index=pd.RangeIndex(10, 0, -5, name="r")),
}

SERIES: dict[str, pd.Series] = {
    "named_int": pd.Series([1, 2, 3], name="n", index=["x", "y", "z"]),
    "tuple_name_td_index": pd.Series([1.5], name=("a", 1), index=pd.timedelta_range("1D", periods=1, freq="D")),
    "empty": pd.Series([]),
    "mixed_objects": pd.Series([1, "string", [1, 2, 3], {"key": "value"}, None]),
    "multiindex": pd.Series([10, 20], index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["x", "y"])),
}


class S(TypedDict, total=False):
    frame: Any
    series: Any


def _graph(saver: Any) -> Any:
    def make(state: S) -> S:
        return {"frame": state["frame"].copy(), "series": state["series"].copy()}

    return StateGraph(S).add_node("make", make).add_edge(START, "make").compile(checkpointer=saver)


def cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def _check_round_trip(get_state: Any) -> None:
    for name, frame in FRAMES.items():
        values = get_state(name).values
        pd.testing.assert_frame_equal(values["frame"], frame)
        pd.testing.assert_series_equal(values["series"], SERIES.get(name, frame.iloc[:, 0] if frame.shape[1] else SERIES["empty"]))


def _run_all(app: Any) -> None:
    for name, frame in FRAMES.items():
        series = SERIES.get(name, frame.iloc[:, 0] if frame.shape[1] else SERIES["empty"])
        app.invoke({"frame": frame, "series": series}, cfg(name))


def test_every_dtype_family_round_trips_through_the_in_memory_saver() -> None:
    app = _graph(InMemorySaver())
    _run_all(app)
    _check_round_trip(lambda name: app.get_state(cfg(name)))


def test_every_dtype_family_round_trips_through_a_sqlite_file_read_by_a_new_saver(tmp_path: Path) -> None:
    path = str(tmp_path / "pd.db")
    with SqliteSaver.from_conn_string(path) as saver:
        _run_all(_graph(saver))
    with SqliteSaver.from_conn_string(path) as saver:
        app = _graph(saver)
        _check_round_trip(lambda name: app.get_state(cfg(name)))


@pytest.mark.parametrize("name", sorted(SERIES))
def test_series_and_an_index_round_trip_through_the_serializer(name: str) -> None:
    serde = JsonPlusSerializer()
    kind, data = serde.dumps_typed(SERIES[name])
    assert kind == "msgpack" and b"pickle" not in data
    pd.testing.assert_series_equal(serde.loads_typed((kind, data)), SERIES[name])
    idx = SERIES[name].index
    pd.testing.assert_index_equal(serde.loads(serde.dumps(idx)), idx, exact=True)


def test_a_frame_of_an_unsupported_dtype_is_refused_when_saved_naming_the_key() -> None:
    def make(state: S) -> S:
        return {"frame": pd.DataFrame({"s": pd.arrays.SparseArray([0, 0, 1])})}

    app = StateGraph(S).add_node("make", make).add_edge(START, "make").compile(checkpointer=InMemorySaver())
    with pytest.raises(SerializationError) as err:
        app.invoke({"series": SERIES["named_int"]}, cfg("sparse"))
    assert err.value.key == "frame"
    assert "'frame'" in str(err.value) and "Sparse" in str(err.value) and "never pickles" in str(err.value)
    # nothing half-written: the input's checkpoint is still readable
    pd.testing.assert_series_equal(app.get_state(cfg("sparse")).values["series"], SERIES["named_int"])


def test_tampered_data_naming_a_dtype_outside_the_allow_list_is_refused() -> None:
    serde = JsonPlusSerializer()
    data = serde.dumps(pd.Series([1.5, 2.5], dtype="float32"))
    assert data.count(b"float32") == 1
    for forged in (data.replace(b"float32", b"object_"), data.replace(b"numpy", b"evals")):
        with pytest.raises(SerializationError, match="object_|evals"):
            serde.loads(forged)


def test_a_pickled_frame_written_by_langgraph_is_refused_naming_its_type_without_unpickling() -> None:
    raw = pickle.dumps(pd.DataFrame({"a": [1]}))
    # (the class as the pickle names it: older pandas pickles it under pandas.core.frame)
    with pytest.raises(SerializationError, match=r"pickle of pandas\.(core\.frame\.)?DataFrame: actorgraph unpickles only"):
        JsonPlusSerializer().loads_typed(("pickle", raw))


def test_pickle_fallback_is_the_callers_choice_and_then_works_as_in_langgraph() -> None:
    """``pickle_fallback=True``, LangGraph's opt-in: pandas values and what MessagePack
    can't hold are pickled, and pickles (LangGraph's among them) are read back."""
    serde = JsonPlusSerializer(pickle_fallback=True)
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]})
    kind, raw = serde.dumps_typed(frame)
    assert kind == "pickle"
    assert serde.loads_typed((kind, raw)).equals(frame)
    assert serde.loads_typed(("pickle", pickle.dumps(frame))).equals(frame)  # as LangGraph wrote it
    assert serde.dumps_typed({"a": 1})[0] == "msgpack"  # what MessagePack holds stays MessagePack
    # the default still never pickles: the same frame as plain data
    assert JsonPlusSerializer().dumps_typed(frame)[0] == "msgpack"


def test_importing_actorgraph_and_storing_plain_data_does_not_import_pandas() -> None:
    code = (
        "import sys, actorgraph, actorgraph.checkpoint.memory\n"
        "from actorgraph.checkpoint.serde.jsonplus import JsonPlusSerializer\n"
        "s = JsonPlusSerializer(); s.loads(s.dumps({'a': [1, (2,)], 'b': {3}}))\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
