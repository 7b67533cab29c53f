"""Import-compatible path: the store API (``BaseStore``), its operations and items."""

from actorgraph.errors import InvalidNamespaceError
from actorgraph.persistence._store import (
    NOT_PROVIDED,
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    NamespaceMatchType,
    NamespacePath,
    NotProvided,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    validate_op_namespace,
)
from actorgraph.persistence._store_embed import Embeddings, ensure_embeddings, get_text_at_path, tokenize_path

__all__ = (
    "BaseStore",
    "Embeddings",
    "ensure_embeddings",
    "get_text_at_path",
    "tokenize_path",
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
    "validate_op_namespace",
)
