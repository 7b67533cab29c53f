"""What an authorization handler's filter means: a metadata document matches when every
key holds (a bare value or ``{"$eq": v}``: equal; ``{"$contains": v}``: a list holding
``v``, or every item of ``v``), with ``$or`` / ``$and`` lists of such filters nested
at most two deep, as LangGraph's server reads them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actorgraph.server._errors import ApiError

__all__ = ("filter_matches",)

_MAX_DEPTH = 2


def _bad(reason: str) -> ApiError:
    # the deployment's handler is at fault, not the request: a server error naming it
    return ApiError(500, f"the auth handler's filter is not one the server can apply: {reason}")


def _groups(filters: Mapping[str, Any], op: str, depth: int) -> list[Mapping[str, Any]]:
    groups = filters[op]
    if not isinstance(groups, list) or len(groups) < 2 or not all(isinstance(g, Mapping) for g in groups):
        raise _bad(f"{op} must be a list of at least 2 filter objects, got {groups!r}")
    if depth + 1 > _MAX_DEPTH:
        raise _bad(f"operators nest at most {_MAX_DEPTH} deep")
    return groups


def _key_matches(metadata: Mapping[str, Any], key: str, want: Any) -> bool:
    if isinstance(want, Mapping):
        if len(want) != 1:
            raise _bad(f"the condition on {key!r} must be one operator ($eq or $contains), got {dict(want)!r}")
        op, operand = next(iter(want.items()))
        if op == "$eq":
            return key in metadata and metadata[key] == operand
        if op == "$contains":
            have = metadata.get(key)
            if not isinstance(have, list):
                return False
            wanted = operand if isinstance(operand, list) else [operand]
            return all(w in have for w in wanted)
        raise _bad(f"unknown operator {op!r} on {key!r} (use $eq or $contains)")
    return key in metadata and metadata[key] == want


def filter_matches(metadata: Mapping[str, Any] | None, filters: Mapping[str, Any] | None, depth: int = 0) -> bool:
    """Whether ``metadata`` passes ``filters`` (no filter: everything passes)."""
    if not filters:
        return True
    doc = metadata or {}
    for key, want in filters.items():
        if key == "$or":
            if not any(filter_matches(doc, g, depth + 1) for g in _groups(filters, key, depth)):
                return False
        elif key == "$and":
            if not all(filter_matches(doc, g, depth + 1) for g in _groups(filters, key, depth)):
                return False
        elif not _key_matches(doc, key, want):
            return False
    return True
