"""What every store shares: checking a batch before it runs, compiling filters, and the
interpreter that runs a batch's ops in order over a storage ``Backend``.

A store's ``batch`` is ``prepare`` (outside any lock: validation and serialization, so
a bad op fails the batch before anything is applied), then ``run`` with a backend bound to
its lock or transaction, with one clock reading for the whole batch. Keeping the semantics
here, not in each store, is what makes the stores behave the same.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, Protocol, cast

from actorgraph.persistence._serde import Serializer
from actorgraph.persistence._sqlite_utils import _validate_filter_key
from actorgraph.persistence._store import (
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    check_labels,
    check_namespace,
    coerce_key,
)

__all__ = (
    "Backend",
    "PGet",
    "PList",
    "PPut",
    "PSearch",
    "Prepared",
    "Record",
    "SerializedValues",
    "check_ttl_config",
    "copy_index",
    "matches",
    "now_us",
    "prepare",
    "run",
    "ttl_us",
)

Namespace = tuple[str, ...]
Predicate = Callable[[dict[str, Any]], bool]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_US_PER_MINUTE = 60_000_000


def now_us() -> int:
    """The stores' clock: microseconds since the epoch (one reading per batch)."""
    return time.time_ns() // 1000


# a longer ttl expires at this bound (~73,000 years after 1970): expiry stamps stay within
# SQLite's 64-bit integers, even when added to the current time
_MAX_TTL_US = 2**61


def ttl_us(ttl_minutes: float) -> int:
    return int(min(ttl_minutes * _US_PER_MINUTE, _MAX_TTL_US))


def _datetime(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


class Record:
    """One stored item as a backend hands it to the interpreter. ``value`` is for
    filtering only (never given to the caller); ``raw`` is the serialized value."""

    __slots__ = ("namespace", "key", "value", "raw", "created_us", "updated_us", "ttl", "expires_us", "_stamps")

    def __init__(
        self,
        namespace: Namespace,
        key: str,
        value: dict[str, Any] | None,
        raw: bytes,
        created_us: int,
        updated_us: int,
        ttl: float | None,
        expires_us: int | None,
    ) -> None:
        self.namespace = namespace
        self.key = key
        self.value = value
        self.raw = raw
        self.created_us = created_us
        self.updated_us = updated_us
        self.ttl = ttl
        self.expires_us = expires_us
        self._stamps: tuple[dt.datetime, dt.datetime] | None = None

    def stamps(self) -> tuple[dt.datetime, dt.datetime]:
        """``created_at`` and ``updated_at`` as datetimes (computed once per record)."""
        stamps = self._stamps
        if stamps is None:
            created = _datetime(self.created_us)
            updated = created if self.updated_us == self.created_us else _datetime(self.updated_us)
            stamps = self._stamps = (created, updated)
        return stamps


# -- prepared ops ------------------------------------------------------------------------


class PGet:
    __slots__ = ("namespace", "key", "refresh")

    def __init__(self, namespace: Namespace, key: str, refresh: bool) -> None:
        self.namespace, self.key, self.refresh = namespace, key, refresh


class PPut:
    """A checked write: the serialized value, or ``raw=None`` for a delete."""

    __slots__ = ("namespace", "key", "raw", "ttl")

    def __init__(self, namespace: Namespace, key: str, raw: bytes | None, ttl: float | None) -> None:
        self.namespace, self.key, self.raw, self.ttl = namespace, key, raw, ttl


class PSearch:
    __slots__ = ("prefix", "predicate", "limit", "offset", "refresh")

    def __init__(self, prefix: Namespace, predicate: Predicate | None, limit: int, offset: int, refresh: bool) -> None:
        self.prefix, self.predicate, self.limit, self.offset, self.refresh = prefix, predicate, limit, offset, refresh


class PList:
    __slots__ = ("conditions", "max_depth", "limit", "offset")

    def __init__(self, conditions: tuple[MatchCondition, ...], max_depth: int | None, limit: int, offset: int) -> None:
        self.conditions, self.max_depth, self.limit, self.offset = conditions, max_depth, limit, offset


Prepared = PGet | PPut | PSearch | PList


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    return value


def check_ttl(ttl: Any, where: str) -> float | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0 or math.isinf(ttl):
        raise ValueError(f"{where} must be a number of minutes > 0 (or None for no expiry), got {ttl!r}")
    return float(ttl)


_TTL_KEYS = frozenset({"refresh_on_read", "omit_expired", "default_ttl", "sweep_interval_minutes"})


def check_ttl_config(ttl: TTLConfig | None) -> TTLConfig | None:
    """A copy of ``ttl`` after checking its keys and ``default_ttl``."""
    if ttl is None:
        return None
    if not isinstance(ttl, Mapping):
        raise TypeError(f"ttl must be a TTLConfig dict such as {{'default_ttl': 60}}, got {ttl!r}")
    unknown = set(ttl) - _TTL_KEYS
    if unknown:
        raise ValueError(f"Unknown TTLConfig keys {sorted(unknown)}; known keys: {sorted(_TTL_KEYS)}")
    check_ttl(ttl.get("default_ttl"), "TTLConfig 'default_ttl'")
    return cast(TTLConfig, dict(ttl))


def copy_index(index: IndexConfig | None) -> IndexConfig | None:
    """A copy of a store's ``index=`` config."""
    if not index:
        return None
    if not isinstance(index, Mapping):
        raise TypeError(f"index must be an IndexConfig dict such as {{'dims': 1536, 'embed': ...}}, got {index!r}")
    return cast(IndexConfig, dict(index))


def prepare(
    ops: Iterable[Op], serde: Serializer, index: IndexConfig | None, *, strict_filter_keys: bool = False
) -> list[Prepared]:
    """Check and normalize every op of a batch (raising before anything runs).
    ``strict_filter_keys``: filter keys must be letters, digits, ``_``, ``.`` and ``-``
    (the SQL stores' rule, a ``ValueError`` naming the key otherwise)."""
    out: list[Prepared] = []
    for op in ops:
        if isinstance(op, GetOp):
            out.append(PGet(check_namespace(op.namespace, writing=False), coerce_key(op.key), bool(op.refresh_ttl)))
        elif isinstance(op, PutOp):
            key = coerce_key(op.key)
            if op.value is None:
                out.append(PPut(check_namespace(op.namespace, writing=False), key, None, None))
                continue
            # the reserved root is refused by put(); a PutOp handed to batch may use it
            ns = check_namespace(op.namespace, writing=False)
            value = _check_value(op.value, ns, key)
            try:
                raw = serde.dumps(value)
            except TypeError as exc:
                exc.add_note(f"(while storing the value of key {key!r} in namespace {ns!r})")
                raise
            out.append(PPut(ns, key, raw, check_ttl(op.ttl, f"ttl of key {key!r} in {ns!r}")))
        elif isinstance(op, SearchOp):
            prefix = check_labels(op.namespace_prefix, "Namespace prefix")
            if strict_filter_keys and op.filter:
                for field in op.filter:
                    _validate_filter_key(field)
            predicate = compile_filter(op.filter) if op.filter else None
            out.append(
                PSearch(prefix, predicate, _count(op.limit, "limit"), _count(op.offset, "offset"), bool(op.refresh_ttl))
            )
        elif isinstance(op, ListNamespacesOp):
            conditions = []
            for cond in op.match_conditions or ():
                if cond.match_type not in ("prefix", "suffix"):
                    raise ValueError(f"match_type must be 'prefix' or 'suffix', got {cond.match_type!r}")
                conditions.append(MatchCondition(cond.match_type, check_labels(cond.path, "Namespace pattern")))
            depth = op.max_depth
            if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
                raise ValueError(f"max_depth must be an int >= 1 or None, got {depth!r}")
            out.append(PList(tuple(conditions), depth, _count(op.limit, "limit"), _count(op.offset, "offset")))
        else:
            raise TypeError(
                f"Unknown store operation {op!r} of type {type(op).__name__}; "
                "expected GetOp, PutOp, SearchOp or ListNamespacesOp."
            )
    return out


def _check_value(value: Any, ns: Namespace, key: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(
            f"A store value must be a dict, got {type(value).__name__} {value!r:.80} for key {key!r} "
            f"in namespace {ns!r}. Wrap it, e.g. {{'value': ...}}."
        )
    value = dict(value)
    for field in value:
        if not isinstance(field, str):
            raise TypeError(
                f"A store value's keys must be strings, got {field!r} ({type(field).__name__}) "
                f"in the value of key {key!r} in namespace {ns!r}."
            )
    return value


# -- filters ----------------------------------------------------------------------------

_MISSING: Any = object()
_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")


def _number(value: Any) -> float | int | None:
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)  # LangGraph compares numeric strings as numbers
        except ValueError:
            return None
    return None


def _order(left: Any, right: Any) -> int | None:
    """-1/0/1 comparing a stored value with a filter value, or ``None`` when they can't
    be ordered (missing field, ``None``, different kinds, NaN)."""
    if left is _MISSING or left is None or right is None:
        return None
    a, b = _number(left), _number(right)
    if a is None or b is None:
        if type(left) is not type(right):
            return None
        a, b = left, right
    try:
        return -1 if a < b else 1 if a > b else 0 if a == b else None
    except TypeError:
        return None


def _equal(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        # a dict filter matches a sub-dict: every given field must match
        if not isinstance(stored, dict):
            return False
        return all(_match_field(stored.get(k, _MISSING), v) for k, v in wanted.items())
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(stored, (list, tuple))
            and len(stored) == len(wanted)
            and all(_equal(s, w) for s, w in zip(stored, wanted))
        )
    if stored is _MISSING:
        return wanted is None  # as in LangGraph: {"f": None} matches items without "f"
    return bool(stored == wanted)


def _apply(stored: Any, operator: str, operand: Any) -> bool:
    if operator == "$eq":
        return _equal(stored, operand)
    if operator == "$ne":
        return not _equal(stored, operand)
    order = _order(stored, operand)
    if order is None:
        return False
    if operator == "$gt":
        return order > 0
    if operator == "$gte":
        return order >= 0
    if operator == "$lt":
        return order < 0
    return order <= 0  # $lte


def _is_operator_dict(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(k, str) and k.startswith("$") for k in value)


def _match_field(stored: Any, wanted: Any) -> bool:
    if _is_operator_dict(wanted):
        return all(_apply(stored, op, operand) for op, operand in wanted.items())
    return _equal(stored, wanted)


def _check_filter(filter: Any, path: str) -> None:
    if not isinstance(filter, dict):
        raise ValueError(f"A search filter must be a dict of field -> value, got {filter!r}")
    for field, wanted in filter.items():
        where = f"{path}{field}"
        if not isinstance(field, str):
            raise ValueError(f"Filter field names must be strings, got {field!r}")
        if field.startswith("$"):
            raise ValueError(f"Filter operator {field!r} needs a field: write {{'<field>': {{{field!r}: ...}}}}")
        if _is_operator_dict(wanted):
            for op in wanted:
                if op not in _OPERATORS:
                    raise ValueError(
                        f"Unsupported filter operator {op!r} for field {where!r}; "
                        f"supported: {', '.join(_OPERATORS)}"
                    )
        elif isinstance(wanted, dict):
            _check_filter(wanted, f"{where}.")


def _lookup(value: Any, field: str) -> Any:
    """``value[field]``; a dotted field (``"user.level"``) not present as a key of its own
    reaches into nested dicts."""
    found = value.get(field, _MISSING)
    if found is not _MISSING or "." not in field:
        return found
    for part in field.split("."):
        if not isinstance(value, dict):
            return _MISSING
        value = value.get(part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def compile_filter(filter: dict[str, Any]) -> Predicate:
    """A predicate over a stored value, after checking the filter's shape."""
    _check_filter(filter, "")
    fields = tuple(filter.items())
    return lambda value: all(_match_field(_lookup(value, f), w) for f, w in fields)


def matches(value: dict[str, Any], filter: dict[str, Any]) -> bool:
    """Whether ``value`` matches ``filter`` (for one-off checks)."""
    return compile_filter(filter)(value)


# -- namespaces -------------------------------------------------------------------------


def _condition_test(cond: MatchCondition) -> Callable[[Namespace], bool]:
    path, n = tuple(cond.path), len(cond.path)
    from_end = cond.match_type == "suffix"
    if "*" not in path:
        if from_end:
            return lambda ns: len(ns) >= n and ns[len(ns) - n :] == path
        return lambda ns: ns[:n] == path

    def test(ns: Namespace) -> bool:
        if len(ns) < n:
            return False
        part = ns[len(ns) - n :] if from_end else ns[:n]
        return all(p == "*" or p == label for p, label in zip(path, part))

    return test


def literal_prefix(conditions: Sequence[MatchCondition]) -> Namespace:
    """The labels every listed namespace must start with (a pushdown hint)."""
    for cond in conditions:
        if cond.match_type == "prefix":
            lead = []
            for label in cond.path:
                if label == "*":
                    break
                lead.append(label)
            return tuple(lead)
    return ()


def list_result(namespaces: Iterable[Namespace], op: PList) -> list[Namespace]:
    found: Iterable[Namespace] = namespaces
    for test in map(_condition_test, op.conditions):
        found = [ns for ns in found if test(ns)]
    if op.max_depth is not None:
        found = {ns[: op.max_depth] for ns in found}
    ordered = sorted(found if isinstance(found, set) else set(found))
    return ordered[op.offset : op.offset + op.limit]


# -- the interpreter --------------------------------------------------------------------


class Backend(Protocol):
    """Storage primitives, called under the store's lock or inside its transaction, with
    the batch's clock reading ``now`` (µs). Expired items are never returned."""

    def get_many(self, keys: Sequence[tuple[Namespace, str]], now: int) -> list[Record | None]: ...

    def write_many(self, writes: Sequence[PPut], now: int) -> None: ...

    def scan(self, prefix: Namespace, now: int, offset: int, limit: int | None) -> Iterator[Record]:
        """Live items under ``prefix`` in the store's search order, ``offset``/``limit``
        applied (``limit=None``: all)."""
        ...

    def peek(self, record: Record) -> dict[str, Any]:
        """The record's value for filtering (not to be handed out)."""
        ...

    def user_value(self, record: Record) -> dict[str, Any]:
        """A value the caller may keep and change."""
        ...

    def namespaces(self, prefix: Namespace, now: int) -> Iterable[Namespace]:
        """Namespaces holding live items (those under ``prefix`` at least)."""
        ...


class SerializedValues:
    """``peek`` and ``user_value`` for a backend whose records carry the serialized value
    (``raw``) and a ``serde`` to decode it with: a value is decoded at most once per read."""

    __slots__ = ()
    serde: Any

    def peek(self, record: Record) -> dict[str, Any]:
        value = record.value
        if value is None:
            value = record.value = self.serde.loads(record.raw)
        return value

    def user_value(self, record: Record) -> dict[str, Any]:
        # a record is read for one op only, so a value decoded for its filter is handed on
        value = record.value
        if value is None:
            return self.serde.loads(record.raw)  # type: ignore[no-any-return]
        record.value = None
        return value


def run(backend: Backend, ops: Sequence[Prepared], now: int) -> tuple[list[Result], list[tuple[Namespace, str]]]:
    """Run ``ops`` in order. Returns the results and the items whose time to live the
    reads asked to restart (applying them after the batch is equivalent: ``now`` is
    one instant)."""
    refresh: list[tuple[Namespace, str]] = []
    n = len(ops)
    if n == 1 and isinstance(ops[0], PGet):  # a plain get(): the common case
        get = ops[0]
        rec = backend.get_many(((get.namespace, get.key),), now)[0]
        if rec is None:
            return [None], refresh
        if get.refresh and rec.ttl is not None:
            refresh.append((rec.namespace, rec.key))
        return [_item(backend, rec)], refresh
    results: list[Result] = [None] * n
    i = 0
    while i < n:
        op = ops[i]
        j = i + 1
        if isinstance(op, PGet):
            while j < n and isinstance(ops[j], PGet):
                j += 1
            gets: list[PGet] = ops[i:j]  # type: ignore[assignment]
            records = backend.get_many([(g.namespace, g.key) for g in gets], now)
            for k, (get, rec) in enumerate(zip(gets, records)):
                if rec is not None:
                    results[i + k] = _item(backend, rec)
                    if get.refresh and rec.ttl is not None:
                        refresh.append((rec.namespace, rec.key))
        elif isinstance(op, PPut):
            while j < n and isinstance(ops[j], PPut):
                j += 1
            backend.write_many(ops[i:j], now)  # type: ignore[arg-type]
        elif isinstance(op, PSearch):
            results[i] = _search(backend, op, now, refresh)
        else:
            results[i] = list_result(backend.namespaces(literal_prefix(op.conditions), now), op)
        i = j
    return results, refresh


def _search(backend: Backend, op: PSearch, now: int, refresh: list[tuple[Namespace, str]]) -> list[Item]:
    if op.limit == 0:
        return []
    if op.predicate is None:
        scan = backend.scan(op.prefix, now, op.offset, op.limit)
        found: Iterable[Record] = scan
    else:
        scan = backend.scan(op.prefix, now, 0, None)
        pred, peek = op.predicate, backend.peek
        found = islice((r for r in scan if pred(peek(r))), op.offset, op.offset + op.limit)
    out: list[Item] = []
    try:
        for rec in found:
            item = SearchItem.__new__(SearchItem)
            item.namespace, item.key, item.value = rec.namespace, rec.key, backend.user_value(rec)
            item.created_at, item.updated_at = rec.stamps()
            item.score = None
            out.append(item)
            if op.refresh and rec.ttl is not None:
                refresh.append((rec.namespace, rec.key))
    finally:
        close = getattr(scan, "close", None)
        if close is not None:
            close()  # a scan stopped early releases its cursor now
    return out


def _item(backend: Backend, rec: Record) -> Item:
    # fields set directly: they are already of the right types
    item = Item.__new__(Item)
    item.namespace, item.key, item.value = rec.namespace, rec.key, backend.user_value(rec)
    item.created_at, item.updated_at = rec.stamps()
    return item
