"""pandas ``DataFrame``, ``Series`` and ``Index`` values as an extension record of plain data.

LangGraph stores these only by pickling them (``pickle_fallback=True``). actorgraph writes
ext code 65 instead: each column's values as plain data (numbers as little-endian bytes,
object columns as ordinary stored values) with its dtype described by a kind from a fixed
set, and the index and column labels the same way. Reading rebuilds them through pandas'
public constructors only, after checking every dtype against that set; pandas is imported
when such a value is written or read, never when actorgraph is.
"""

from __future__ import annotations

import sys
from typing import Any

from actorgraph.errors import SerializationError

__all__ = ("EXT_PANDAS", "is_pandas_type", "pack_pandas", "unpack_pandas")

EXT_PANDAS = 65

_NUMPY = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
})  # fmt: skip
_MASKED = frozenset({
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
    "Float32", "Float64", "boolean",
})  # fmt: skip
_UNITS = frozenset({"s", "ms", "us", "ns"})
_CLOSED = frozenset({"left", "right", "both", "neither"})
_STORAGE = frozenset({"python", "pyarrow"})
_SUPPORTED = (
    "numpy bool/int/uint/float/complex, object, datetime64 (with or without tz), timedelta64, "
    "category, period, interval, str/string, nullable Int/UInt/Float/boolean"
)


def is_pandas_type(t: type) -> bool:
    """``t`` is a DataFrame, Series or Index class (pandas is loaded whenever one exists)."""
    pd = sys.modules.get("pandas")
    return pd is not None and issubclass(t, (pd.DataFrame, pd.Series, pd.Index))


# -- writing ---------------------------------------------------------------------------------
class _Unsupported(Exception):
    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype


def pack_pandas(obj: Any) -> list[Any]:
    """The record's payload: plain data and stored values, for the caller to encode."""
    import pandas as pd

    try:
        if isinstance(obj, pd.DataFrame):
            cols = [_array(obj.iloc[:, i]) for i in range(obj.shape[1])]
            attrs = dict(obj.attrs) or None
            return ["frame", _index(obj.columns), cols, _index(obj.index), attrs]
        if isinstance(obj, pd.Series):
            return ["series", _array(obj), _index(obj.index), obj.name, dict(obj.attrs) or None]
        return ["index", _index(obj)]
    except _Unsupported as exc:
        raise SerializationError(
            f"Can't store a pandas {type(obj).__name__} holding dtype {str(exc.dtype)!r}: actorgraph "
            f"stores pandas values of these dtypes only (it never pickles): {_SUPPORTED}",
            value=obj,
        ) from None


def _index(idx: Any) -> list[Any]:
    import pandas as pd

    if type(idx) is pd.RangeIndex:
        return ["range", idx.start, idx.stop, idx.step, idx.name]
    if isinstance(idx, pd.MultiIndex):
        levels = [_index(level) for level in idx.levels]
        return ["multi", levels, [_array(c) for c in idx.codes], list(idx.names)]
    freq = getattr(idx, "freqstr", None) if isinstance(idx, (pd.DatetimeIndex, pd.TimedeltaIndex)) else None
    return ["plain", _array(idx), idx.name, freq]


def _array(values: Any) -> list[Any]:
    """One column (a Series, an Index or an array) as [kind, ...]."""
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        kind = dtype.kind
        if kind == "O":
            return ["object", np.asarray(values).tolist()]
        if dtype.name in _NUMPY:
            return _numpy(np.asarray(values))
        if kind in "mM":
            unit = np.datetime_data(dtype)[0]
            if unit not in _UNITS:
                raise _Unsupported(dtype)
            ints = np.asarray(values).view("i8")
            return ["datetime" if kind == "M" else "timedelta", unit, None, _bytes(ints, "int64")]
        raise _Unsupported(dtype)
    arr = values.array if hasattr(values, "array") else values
    if isinstance(dtype, pd.DatetimeTZDtype):
        tz = str(dtype.tz)
        if dtype.unit not in _UNITS or pd.DatetimeTZDtype(dtype.unit, tz) != dtype:
            raise _Unsupported(dtype)  # a tz that its name doesn't bring back
        utc = np.asarray(arr.tz_convert(None)).view("i8")
        return ["datetime", dtype.unit, tz, _bytes(utc, "int64")]
    if isinstance(dtype, pd.CategoricalDtype):
        return ["category", _index(dtype.categories), bool(dtype.ordered), _numpy(np.asarray(arr.codes))]
    if isinstance(dtype, pd.PeriodDtype):
        return ["period", arr.freqstr, _bytes(np.asarray(arr.asi8), "int64")]
    if isinstance(dtype, pd.IntervalDtype):
        if dtype.closed not in _CLOSED:
            raise _Unsupported(dtype)
        return ["interval", dtype.closed, _array(arr.left), _array(arr.right)]
    if isinstance(dtype, pd.StringDtype):
        if dtype.storage not in _STORAGE:
            raise _Unsupported(dtype)
        nan = dtype.na_value is not pd.NA
        return ["string", dtype.storage, nan, arr.to_numpy(dtype=object, na_value=None).tolist()]
    if dtype.name in _MASKED and type(dtype).__module__.partition(".")[0] == "pandas":
        np_name = dtype.numpy_dtype.name
        data = arr.to_numpy(dtype=np_name, na_value=False if np_name == "bool" else 0)
        return ["masked", dtype.name, _numpy(data), _numpy(np.asarray(arr.isna()))]
    raise _Unsupported(dtype)


def _numpy(arr: Any) -> list[Any]:
    return ["numpy", arr.dtype.name, _bytes(arr, arr.dtype.name)]


def _bytes(arr: Any, name: str) -> bytes:
    import numpy as np

    return np.ascontiguousarray(arr, dtype=np.dtype(name).newbyteorder("<")).tobytes()


# -- reading ---------------------------------------------------------------------------------
def unpack_pandas(rec: Any) -> Any:
    """Rebuild a record written by ``pack_pandas``; ``SerializationError`` for anything else."""
    try:
        import pandas as pd
    except ImportError:
        raise SerializationError("Stored data holds a pandas value, but pandas is not installed") from None
    try:
        what = rec[0]
        if what == "frame":
            _, columns, cols, index, attrs = rec
            idx = _unindex(index)
            data = {i: _series(c, idx, None) for i, c in enumerate(cols)}
            df = pd.DataFrame(data, index=idx)
            df.columns = _unindex(columns)
            if attrs:
                df.attrs.update(attrs)
            return df
        if what == "series":
            _, values, index, name, attrs = rec
            s = _series(values, _unindex(index), name)
            if attrs:
                s.attrs.update(attrs)
            return s
        if what == "index":
            return _unindex(rec[1])
    except SerializationError:
        raise
    except Exception as exc:
        raise SerializationError(f"Stored pandas value can't be read: {type(exc).__name__}: {exc}") from exc
    raise SerializationError(f"Stored pandas value has an unknown kind {what!r}")


def _series(rec: Any, index: Any, name: Any) -> Any:
    import pandas as pd

    arr = _unarray(rec)
    return pd.Series(arr, index=index, dtype=arr.dtype, name=name, copy=False)


def _unindex(rec: Any) -> Any:
    import pandas as pd

    kind = rec[0]
    if kind == "range":
        _, start, stop, step, name = rec
        return pd.RangeIndex(_int(start), _int(stop), _int(step), name=name)
    if kind == "multi":
        _, levels, codes, names = rec
        return pd.MultiIndex(
            levels=[_unindex(lv) for lv in levels], codes=[_unarray(c) for c in codes], names=names
        )
    if kind == "plain":
        _, values, name, freq = rec
        arr = _unarray(values)
        if freq is not None:
            ctor = pd.DatetimeIndex if arr.dtype.kind == "M" else pd.TimedeltaIndex
            return ctor(arr, freq=_str(freq), name=name)
        return pd.Index(arr, dtype=arr.dtype, name=name, copy=False)
    raise SerializationError(f"Stored pandas index has an unknown kind {kind!r}")


def _unarray(rec: Any) -> Any:
    import numpy as np
    import pandas as pd

    kind = rec[0]
    if kind == "numpy":
        _, name, buf = rec
        return _from_bytes(buf, _allowed(name, _NUMPY))
    if kind == "object":
        values = rec[1]
        return np.fromiter(values, dtype=object, count=len(values))
    if kind in ("datetime", "timedelta"):
        _, unit, tz, buf = rec
        letter = "M" if kind == "datetime" else "m"
        arr = _from_bytes(buf, "int64").view(f"{letter}8[{_allowed(unit, _UNITS)}]")
        if tz is None:
            return arr
        return pd.DatetimeIndex(arr).tz_localize("UTC").tz_convert(_str(tz)).array
    if kind == "category":
        _, categories, ordered, codes = rec
        dtype = pd.CategoricalDtype(_unindex(categories), ordered=bool(ordered))
        return pd.Categorical.from_codes(_unarray(codes), dtype=dtype)
    if kind == "period":
        _, freq, buf = rec
        return pd.PeriodIndex.from_ordinals(_from_bytes(buf, "int64"), freq=_str(freq)).array
    if kind == "interval":
        _, closed, left, right = rec
        return pd.arrays.IntervalArray.from_arrays(
            pd.Index(_unarray(left)), pd.Index(_unarray(right)), closed=_allowed(closed, _CLOSED)
        )
    if kind == "string":
        _, storage, nan, values = rec
        storage = _allowed(storage, _STORAGE)
        dtype = pd.StringDtype(storage, na_value=np.nan) if nan else pd.StringDtype(storage)
        return pd.array(values, dtype=dtype)
    if kind == "masked":
        _, name, values, mask = rec
        arr = pd.array(_unarray(values), dtype=_allowed(name, _MASKED))
        arr[_unarray(mask).astype(bool)] = pd.NA
        return arr
    raise SerializationError(f"Stored pandas column has a kind actorgraph doesn't rebuild: {kind!r}")


def _allowed(name: Any, allowed: frozenset[str]) -> str:
    if type(name) is not str or name not in allowed:
        raise SerializationError(
            f"Stored pandas value names {name!r}, which is not one of the dtypes actorgraph rebuilds"
        )
    return name


def _from_bytes(buf: Any, name: str) -> Any:
    import numpy as np

    if type(buf) is not bytes:
        raise SerializationError("Stored pandas column values are not bytes")
    return np.frombuffer(buf, dtype=np.dtype(name).newbyteorder("<")).astype(name)


def _str(value: Any) -> str:
    if type(value) is not str:
        raise SerializationError(f"Stored pandas value has {value!r} where a name is expected")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise SerializationError(f"Stored pandas index has {value!r} where an integer is expected")
    return value
