"""Conditional edges: a router function decides, after its source node, where to go.

The router sees the state as it is after the source node's own writes (not the other
writes of the step, which are still invisible). Its result - a node name, END, a list of
names, ``Send``s, or keys of the path map - becomes trigger writes and sends. Anything
that names no node is an ``InvalidUpdateError`` that says which node, router and value.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Literal, get_args, get_origin, get_type_hints

from actorgraph._constants import END, START
from actorgraph._types import Send
from actorgraph.errors import GraphValidationError, InvalidUpdateError
from actorgraph.actors._callable import BoundCallable, bind_callable, callable_name
from actorgraph.graph._schema import inferred_input_schema

__all__ = ("Branch",)

_log = logging.getLogger("actorgraph.graph")


def _literal_targets(fn: Any) -> tuple[str, ...] | None:
    """Targets declared by a router's ``-> Literal["a", "b"]`` return annotation."""
    try:
        hints = get_type_hints(fn)
    except Exception:
        return None
    rtn = hints.get("return")
    if rtn is None:
        return None
    if get_origin(rtn) is Literal:
        return tuple(str(v) for v in get_args(rtn))
    return None


class Branch:
    """One conditional edge out of ``source``."""

    __slots__ = ("source", "name", "path", "path_map", "ends", "bound", "input_schema", "view")

    def __init__(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: dict[Hashable, str] | Sequence[str] | None,
    ) -> None:
        self.source = source
        self.name = callable_name(path)
        self.path = path
        # a router whose first parameter is annotated with a schema class sees the state
        # through that schema (its keys only); ``view`` is set at compile
        self.input_schema = inferred_input_schema(path)
        self.view: Callable[[dict[str, Any]], Any] | None = None
        if path_map is None:
            self.path_map: dict[Hashable, str] | None = None
            literal = _literal_targets(path)
            self.ends: tuple[str, ...] | None = literal
        elif isinstance(path_map, dict):
            self.path_map = dict(path_map)
            self.ends = tuple(dict.fromkeys(path_map.values()))
        elif isinstance(path_map, (list, tuple)):
            self.path_map = {name: name for name in path_map}
            self.ends = tuple(path_map)
        else:
            raise GraphValidationError(
                f"path_map of the conditional edge '{self.name}' from '{source}' must be a dict "
                f"or a list of node names, got {path_map!r}",
                node=source,
            )
        self.bound: BoundCallable | None = None

    def validate(self, nodes: Sequence[str]) -> None:
        """Compile-time check: every path-map target exists."""
        if self.path_map is None:
            return
        for target in self.path_map.values():
            if target != END and target not in nodes:
                raise GraphValidationError(
                    f"At '{self.source}' node, '{self.name}' branch found unknown target "
                    f"'{target}'. Known nodes: {sorted(nodes)}",
                    node=self.source,
                )

    def bind(self) -> BoundCallable:
        if self.bound is None:
            self.bound = bind_callable(self.path, f"conditional edge '{self.name}'")
        return self.bound

    def route(self, result: Any, nodes: frozenset[str], strict: bool = False) -> tuple[list[str], list[Send]]:
        """(target node names, sends) for a router's return value.

        As LangGraph: a name that is no node is logged and ignored, a value missing from
        the path map is a ``KeyError``, ``None`` a ``ValueError``. ``strict`` makes each an
        ``InvalidUpdateError`` naming the node, router and value.
        """
        if result is None:
            if not strict:
                raise ValueError("Branch did not return a valid destination")
            raise InvalidUpdateError(
                f"Conditional edge '{self.name}' from node '{self.source}' returned None: it "
                "must return a node name, END, a list of them, or Send objects.",
                node=self.source,
            )
        items = result if isinstance(result, (list, tuple)) else (result,)
        targets: list[str] = []
        sends: list[Send] = []
        for item in items:
            if isinstance(item, Send):
                sends.append(item)
                continue
            dest = self._map(item, strict)
            if dest == END:
                continue
            if dest not in nodes or dest == START:
                if not strict:
                    _log.warning(
                        "Conditional edge '%s' from node '%s' routed to %r, which is not a node "
                        "of this graph: ignoring it.",
                        self.name,
                        self.source,
                        dest,
                    )
                    continue
                raise InvalidUpdateError(
                    f"Conditional edge '{self.name}' from node '{self.source}' routed to "
                    f"{dest!r}, which is not a node of this graph. Known nodes: {sorted(nodes)}",
                    node=self.source,
                    value=dest,
                )
            if dest not in targets:
                targets.append(dest)
        return targets, sends

    def _map(self, item: Any, strict: bool) -> Any:
        if self.path_map is None:
            return item
        if not strict:
            return self.path_map[item]
        try:
            return self.path_map[item]
        except (KeyError, TypeError):
            raise InvalidUpdateError(
                f"Conditional edge '{self.name}' from node '{self.source}' returned {item!r}, "
                f"which is not in its path map (expected one of {list(self.path_map)})",
                node=self.source,
                value=item,
            ) from None


def router_is_async(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))
