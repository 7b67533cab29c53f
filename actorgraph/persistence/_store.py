"""Long-term memory stores: the ``BaseStore`` API, its operation types and ``Item``.

A store keeps JSON-like dicts under ``(namespace tuple, key)`` and is shared by every
thread of a graph (nodes reach it as ``runtime.store`` or ``get_store()``). ``batch`` /
``abatch`` are the primitive; ``get``/``put``/``delete``/``search``/``list_namespaces``
and their async twins are built on them, with LangGraph's signatures. The stores live in
``_store_memory`` and ``_store_sqlite``; what they share (validation, filters, the op
interpreter) is in ``_store_exec``.

Differences from LangGraph
--------------------------
- Ops in one batch apply in order: a ``GetOp`` after a ``PutOp`` of the same key sees the
  put (LangGraph applies every put after all the reads of the batch).
- Overwriting a key keeps its ``created_at`` and moves ``updated_at``.
- Deleting a namespace's last item (or its expiry) removes the namespace from
  ``list_namespaces``; a ``get`` never creates one.
- Comparison filters (``$gt``/``$gte``/``$lt``/``$lte``) skip items that lack the field or
  hold a value of an incomparable type, instead of raising ``TypeError``; numbers (and
  numeric strings) compare as numbers, other strings (ISO dates, names) as strings, where
  LangGraph's ``InMemoryStore`` raises. An unknown operator or a malformed filter is a
  ``ValueError`` before anything runs.
- A batch is checked whole before it runs: a bad namespace, a non-dict value or a value
  that can't be serialized fails the batch with nothing applied.
- ``get``/``delete`` of an empty namespace raise ``InvalidNamespaceError`` (LangGraph's
  ``get`` returns ``None``); a namespace given as a list is accepted, a bare string is an
  error naming it.
- Values are stored as serialized copies: changing a dict after ``put``, or an item's
  value after ``get``, doesn't change what is stored. Values must be dicts with ``str``
  keys whose contents the safe serializer can store (a ``TypeError`` names the culprit).
- ``InMemoryStore`` supports TTL too (``ttl=`` minutes per item, ``TTLConfig`` per store;
  LangGraph's raises ``NotImplementedError``). In both stores expired items are never
  returned or listed, and are purged lazily (no background thread).
- Negative ``limit``/``offset`` and a ``max_depth`` below 1 are a ``ValueError``.
- ``SearchItem``'s repr says ``SearchItem(...)``.
- Semantic search (``index=``, ``search(query=...)``) ranks as LangGraph's stores do on
  every store (``_store_vectors`` says how, and where it differs); the SQLite stores use
  sqlite-vec when it loads and the same SQL with Python functions when it doesn't
  (``_store_sqlite_vec``). Without an index, ``query`` is ignored, as in LangGraph.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NamedTuple, TypedDict, cast

from actorgraph.errors import InvalidNamespaceError

__all__ = (
    "BaseStore",
    "GetOp",
    "IndexConfig",
    "InvalidNamespaceError",
    "Item",
    "ListNamespacesOp",
    "MatchCondition",
    "NOT_PROVIDED",
    "NamespaceMatchType",
    "NamespacePath",
    "NotProvided",
    "Op",
    "PutOp",
    "Result",
    "SearchItem",
    "SearchOp",
    "TTLConfig",
    "check_labels",
    "check_namespace",
    "coerce_key",
    "ensure_refresh",
    "ensure_ttl",
    "validate_op_namespace",
)


class NotProvided:
    """The default of ``put(ttl=...)``: use the store's ``default_ttl``."""

    _instance: NotProvided | None = None

    def __new__(cls) -> NotProvided:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_PROVIDED = NotProvided()


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    # items that went through JSON (the server) carry ISO strings
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


class Item:
    """A stored value with its place and timestamps.

    ``namespace`` (tuple of labels), ``key``, ``value`` (a dict), ``created_at`` (first
    written) and ``updated_at`` (last written), both timezone-aware UTC datetimes.
    """

    __slots__ = ("value", "key", "namespace", "created_at", "updated_at")

    def __init__(
        self,
        *,
        value: dict[str, Any],
        key: str,
        namespace: tuple[str, ...],
        created_at: dt.datetime,
        updated_at: dt.datetime,
    ) -> None:
        self.value = value
        self.key = key
        self.namespace = tuple(namespace)
        self.created_at = _as_datetime(created_at)
        self.updated_at = _as_datetime(updated_at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Item):
            return False
        return (
            self.value == other.value
            and self.key == other.key
            and self.namespace == other.namespace
            and self.created_at == other.created_at
            and self.updated_at == other.updated_at
        )

    def __hash__(self) -> int:
        return hash((self.namespace, self.key))

    def dict(self) -> dict[str, Any]:
        """JSON-ready form: the namespace as a list, timestamps as ISO strings."""
        return {
            "namespace": list(self.namespace),
            "key": self.key,
            "value": self.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.dict().items())
        return f"{type(self).__name__}({fields})"


class SearchItem(Item):
    """An item found by ``search``; ``score`` is the relevance of a semantic query
    (``None`` for plain searches)."""

    __slots__ = ("score",)

    def __init__(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        created_at: dt.datetime,
        updated_at: dt.datetime,
        score: float | None = None,
    ) -> None:
        super().__init__(
            value=value, key=key, namespace=namespace, created_at=created_at, updated_at=updated_at
        )
        self.score = score

    def dict(self) -> dict[str, Any]:
        out = super().dict()
        out["score"] = self.score
        return out


class GetOp(NamedTuple):
    """Read the item at ``(namespace, key)``; ``refresh_ttl`` restarts its time to live."""

    namespace: tuple[str, ...]
    key: str
    refresh_ttl: bool = True


class SearchOp(NamedTuple):
    """Find items whose namespace starts with ``namespace_prefix`` (whole labels) and
    whose value matches ``filter``, skipping ``offset`` and returning at most ``limit``.

    ``filter`` maps a top-level field to a value (equality; a dict value matches a
    sub-dict, a list value an equal list) or to operators ``{"$gt": 3, "$lte": 9}``
    among ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``.
    """

    namespace_prefix: tuple[str, ...]
    filter: dict[str, Any] | None = None
    limit: int = 10
    offset: int = 0
    query: str | None = None
    refresh_ttl: bool = True


NamespacePath = tuple[str | Literal["*"], ...]
"""A namespace pattern; ``"*"`` matches any one label."""

NamespaceMatchType = Literal["prefix", "suffix"]
"""Whether a ``MatchCondition`` path matches the start or the end of a namespace."""


class MatchCondition(NamedTuple):
    """A namespace must start (``"prefix"``) or end (``"suffix"``) with ``path``."""

    match_type: NamespaceMatchType
    path: NamespacePath


class ListNamespacesOp(NamedTuple):
    """List the namespaces that hold items and meet every condition, cut down to
    ``max_depth`` labels (duplicates merged), sorted, then paged by ``offset``/``limit``."""

    match_conditions: tuple[MatchCondition, ...] | None = None
    max_depth: int | None = None
    limit: int = 100
    offset: int = 0


class PutOp(NamedTuple):
    """Write ``value`` at ``(namespace, key)``, or delete the item when ``value`` is
    ``None``. ``ttl`` is a time to live in minutes (``None``: never expires). ``index``
    names the fields to embed for semantic search (accepted, unused: no semantic index)."""

    namespace: tuple[str, ...]
    key: str
    value: Mapping[str, Any] | None
    index: Literal[False] | list[str] | None = None  # type: ignore[assignment]
    ttl: float | None = None


Op = GetOp | SearchOp | PutOp | ListNamespacesOp
Result = Item | list[Item] | list[SearchItem] | list[tuple[str, ...]] | None


class TTLConfig(TypedDict, total=False):
    """A store's time-to-live settings.

    ``default_ttl``: minutes an item lives after it was last written (or read, with
    ``refresh_on_read``) when ``put`` doesn't pass ``ttl``. ``refresh_on_read`` (default
    ``True``): reads restart an item's time to live. ``omit_expired`` and
    ``sweep_interval_minutes`` are accepted for compatibility: expired items are never
    returned, and they are purged lazily by the store's own calls.
    """

    refresh_on_read: bool
    omit_expired: bool
    default_ttl: float | None
    sweep_interval_minutes: int | None


class IndexConfig(TypedDict, total=False):
    """Semantic-search settings (LangGraph's shape): ``dims``, ``embed`` (an
    ``Embeddings`` or an embedding function) and ``fields`` (paths of the value to embed,
    default ``["$"]``, the whole value)."""

    dims: int
    embed: Any
    fields: list[str] | None


# -- validation -------------------------------------------------------------------------


def _as_tuple(namespace: Any, what: str) -> tuple[Any, ...]:
    if type(namespace) is tuple:
        return namespace
    if isinstance(namespace, (tuple, list)):
        return tuple(namespace)
    hint = f" Did you mean ({namespace!r},)?" if isinstance(namespace, str) else ""
    raise InvalidNamespaceError(
        f"{what} must be a tuple of string labels, got {type(namespace).__name__} {namespace!r}.{hint}",
        namespace=namespace,
    )


def check_labels(namespace: Any, what: str = "Namespace") -> tuple[str, ...]:
    """``namespace`` as a tuple, after checking every label: a non-empty ``str`` without
    ``.`` or NUL. (In ``list_namespaces`` patterns a ``"*"`` label matches any label.)"""
    ns = _as_tuple(namespace, what)
    for label in ns:
        if type(label) is str and label and "." not in label and "\x00" not in label:
            continue  # the common case, checked in one go
        if not isinstance(label, str):
            raise InvalidNamespaceError(
                f"{what} {ns!r} has a label that is not a string: {label!r} "
                f"({type(label).__name__}). Labels must be strings.",
                namespace=ns,
                label=label,
            )
        if not label:
            raise InvalidNamespaceError(
                f"{what} {ns!r} has an empty label. Labels must be non-empty strings.", namespace=ns, label=label
            )
        if "." in label:
            raise InvalidNamespaceError(
                f"{what} {ns!r} has a label with a period: {label!r}. Labels can't contain '.'; "
                f"split it into separate labels, e.g. {tuple(label.split('.'))!r}.",
                namespace=ns,
                label=label,
            )
        if "\x00" in label:
            raise InvalidNamespaceError(
                f"{what} {ns!r} has a label with a NUL byte: {label!r}.", namespace=ns, label=label
            )
    return ns


def check_namespace(namespace: Any, *, writing: bool) -> tuple[str, ...]:
    """A namespace that names an item: non-empty, valid labels, and (``writing``) not
    under the reserved root ``"langgraph"``."""
    ns = check_labels(namespace)
    if not ns:
        raise InvalidNamespaceError(
            "Namespace () is empty: an item's namespace needs at least one label, e.g. ('users', user_id).",
            namespace=ns,
        )
    if writing and ns[0] == "langgraph":
        raise InvalidNamespaceError(
            f"Namespace {ns!r} starts with the reserved root label 'langgraph'; choose another root label.",
            namespace=ns,
            label=ns[0],
        )
    return ns


def validate_op_namespace(op: Op) -> None:
    """Check the namespace labels an op carries (for ops handed straight to ``batch``)."""
    if isinstance(op, (GetOp, PutOp)):
        check_labels(op.namespace)
    elif isinstance(op, SearchOp):
        check_labels(op.namespace_prefix, "Namespace prefix")
    elif isinstance(op, ListNamespacesOp):
        for condition in op.match_conditions or ():
            check_labels(condition.path, "Namespace pattern")


def ensure_refresh(ttl_config: TTLConfig | None, refresh_ttl: bool | None) -> bool:
    if refresh_ttl is not None:
        return refresh_ttl
    if ttl_config is not None:
        return ttl_config.get("refresh_on_read", True)
    return True


def ensure_ttl(ttl_config: TTLConfig | None, ttl: float | None | NotProvided) -> float | None:
    if isinstance(ttl, NotProvided):
        return ttl_config.get("default_ttl") if ttl_config else None
    return ttl


# -- the store API ----------------------------------------------------------------------


class BaseStore(ABC):
    """A key-value store of dicts under hierarchical namespaces, shared across threads.

    Subclasses implement ``batch`` and ``abatch``; every other method is built on them.
    A store that honours ``ttl=`` sets ``supports_ttl = True``.
    """

    supports_ttl: bool = False
    ttl_config: TTLConfig | None = None

    @abstractmethod
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in order; one result per op (``None`` for puts)."""

    @abstractmethod
    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in order without blocking the event loop."""

    # -- ops from arguments (shared by the sync and async twins) ------------------------
    def _get_op(self, namespace: tuple[str, ...], key: str, refresh_ttl: bool | None) -> GetOp:
        refresh = ensure_refresh(self.ttl_config, refresh_ttl)
        # checked here, before anything is queued or batched, as LangGraph does
        return GetOp(check_namespace(namespace, writing=False), coerce_key(key), refresh)

    def _put_op(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None,
        ttl: float | None | NotProvided,
    ) -> PutOp:
        if ttl not in (NOT_PROVIDED, None) and not self.supports_ttl:
            raise NotImplementedError(
                f"TTL is not supported by {type(self).__name__}. "
                "Use a store implementation that supports TTL or set ttl=None."
            )
        ttl = ensure_ttl(self.ttl_config, ttl)
        return PutOp(check_namespace(namespace, writing=True), coerce_key(key), value, index, ttl)

    def _delete_op(self, namespace: tuple[str, ...], key: str) -> PutOp:
        return PutOp(check_namespace(namespace, writing=False), coerce_key(key), None)

    def _search_op(
        self,
        namespace_prefix: tuple[str, ...],
        query: str | None,
        filter: dict[str, Any] | None,
        limit: int,
        offset: int,
        refresh_ttl: bool | None,
    ) -> SearchOp:
        namespace_prefix = check_labels(namespace_prefix, "Namespace prefix")
        return SearchOp(namespace_prefix, filter, limit, offset, query, ensure_refresh(self.ttl_config, refresh_ttl))

    @staticmethod
    def _list_op(
        prefix: NamespacePath | None,
        suffix: NamespacePath | None,
        max_depth: int | None,
        limit: int,
        offset: int,
    ) -> ListNamespacesOp:
        conditions = []
        if prefix:
            conditions.append(MatchCondition("prefix", check_labels(prefix, "Prefix")))
        if suffix:
            conditions.append(MatchCondition("suffix", check_labels(suffix, "Suffix")))
        return ListNamespacesOp(tuple(conditions), max_depth, limit, offset)

    # -- sync ---------------------------------------------------------------------------
    def get(self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None) -> Item | None:
        """The item at ``(namespace, key)``, or ``None``. ``refresh_ttl`` (default: the
        store's ``refresh_on_read``) restarts the item's time to live."""
        return cast("Item | None", self.batch([self._get_op(namespace, key, refresh_ttl)])[0])

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | None | NotProvided = NOT_PROVIDED,
    ) -> None:
        """Store ``value`` (a dict) at ``(namespace, key)``, replacing what was there.
        ``ttl``: minutes to live (default: the store's ``default_ttl``; ``None``: forever)."""
        self.batch([self._put_op(namespace, key, value, index, ttl)])

    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        """Remove the item at ``(namespace, key)`` (nothing happens if there is none)."""
        self.batch([self._delete_op(namespace, key)])

    def search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        """Items under ``namespace_prefix`` (whole labels; ``()`` is everything) whose
        value matches ``filter``; see ``SearchOp``."""
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return cast("list[SearchItem]", self.batch([op])[0])

    def list_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Namespaces that hold items, filtered by ``prefix``/``suffix`` patterns (``"*"``
        matches one label), cut down to ``max_depth`` labels, sorted and paged."""
        op = self._list_op(prefix, suffix, max_depth, limit, offset)
        return cast("list[tuple[str, ...]]", self.batch([op])[0])

    # -- async --------------------------------------------------------------------------
    async def aget(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """Async ``get``."""
        return cast("Item | None", (await self.abatch([self._get_op(namespace, key, refresh_ttl)]))[0])

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | None | NotProvided = NOT_PROVIDED,
    ) -> None:
        """Async ``put``."""
        await self.abatch([self._put_op(namespace, key, value, index, ttl)])

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        """Async ``delete``."""
        await self.abatch([self._delete_op(namespace, key)])

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        """Async ``search``."""
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return cast("list[SearchItem]", (await self.abatch([op]))[0])

    async def alist_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """Async ``list_namespaces``."""
        op = self._list_op(prefix, suffix, max_depth, limit, offset)
        return cast("list[tuple[str, ...]]", (await self.abatch([op]))[0])


def coerce_key(key: Any) -> str:
    """A key as a string (ints and other values through ``str()``, as LangGraph does)."""
    if isinstance(key, str):
        return key
    if key is None:
        raise TypeError("A store key can't be None; pass a string key.")
    return str(key)
