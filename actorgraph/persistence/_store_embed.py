"""Text for semantic search: which parts of a stored value are embedded
(``get_text_at_path`` over ``tokenize_path`` paths), and ``ensure_embeddings``, which
turns an embedding function (sync or async) into LangChain's ``Embeddings`` interface."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import anyio.to_thread

__all__ = ("AEmbeddingsFunc", "Embeddings", "EmbeddingsFunc", "ensure_embeddings", "get_text_at_path", "tokenize_path")

try:
    from langchain_core.embeddings import Embeddings
except ImportError:  # LangChain is optional: the same interface, as an ABC of our own

    class Embeddings:  # type: ignore[no-redef]
        """Texts to vectors: ``embed_documents`` / ``embed_query`` and async twins."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise NotImplementedError

        def embed_query(self, text: str) -> list[float]:
            raise NotImplementedError

        async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
            return await anyio.to_thread.run_sync(self.embed_documents, texts)

        async def aembed_query(self, text: str) -> list[float]:
            return await anyio.to_thread.run_sync(self.embed_query, text)


EmbeddingsFunc = Callable[[Sequence[str]], list[list[float]]]
AEmbeddingsFunc = Callable[[Sequence[str]], Awaitable[list[list[float]]]]


def _is_async(func: Any) -> bool:
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "__call__", None))


class _FunctionEmbeddings(Embeddings):
    """An embedding function behind the ``Embeddings`` interface."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.is_async = _is_async(func)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.is_async:
            raise ValueError(
                "This embedding function is async: use the async store methods (aput, asearch) with it"
            )
        return list(self.func(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.is_async:
            return list(await self.func(texts))
        return await anyio.to_thread.run_sync(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.aembed_documents([text]))[0]


def ensure_embeddings(embed: Any) -> Embeddings:
    """``embed`` as an ``Embeddings``: an instance as it is, a function wrapped, a
    ``"provider:model"`` string through LangChain's ``init_embeddings``."""
    if embed is None:
        raise ValueError("embed must be provided")
    if isinstance(embed, Embeddings):
        return embed
    if isinstance(embed, str):
        try:
            from langchain.embeddings import init_embeddings  # type: ignore[import-not-found]
        except ImportError:
            raise ValueError(
                f"Could not load embeddings from {embed!r}: install langchain>=0.3.9 to name a model by string"
            ) from None
        return init_embeddings(embed)  # type: ignore[no-any-return]
    if callable(embed):
        return _FunctionEmbeddings(embed)
    raise ValueError(f"Invalid embeddings type: {type(embed).__name__}. Pass an Embeddings instance or a function.")


def tokenize_path(path: str) -> list[str]:
    """``"a.b[0].{c,d.e}"`` -> ``["a", "b", "[0]", "{c,d.e}"]``: field names split on
    dots, bracketed indexes and braced field lists kept whole."""
    tokens: list[str] = []
    name: list[str] = []
    i = 0
    while i < len(path):
        char = path[i]
        if char in "[{":
            if name:
                tokens.append("".join(name))
                name = []
            close = "]" if char == "[" else "}"
            depth, j = 0, i
            while j < len(path):
                if path[j] == char:
                    depth += 1
                elif path[j] == close:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            tokens.append(path[i : j + 1])
            i = j + 1
            continue
        if char == ".":
            if name:
                tokens.append("".join(name))
                name = []
        else:
            name.append(char)
        i += 1
    if name:
        tokens.append("".join(name))
    return tokens


def _as_text(value: Any) -> list[str]:
    if isinstance(value, (str, int, float, bool)):
        return [str(value)]
    if isinstance(value, (list, dict)):
        return [json.dumps(value, sort_keys=True, ensure_ascii=False)]
    return []


def get_text_at_path(obj: Any, path: str | list[str]) -> list[str]:
    """The texts at ``path`` in ``obj``: ``"a.b"``, ``"items[0]"``, ``"items[-1]"``,
    ``"items[*].x"``, ``"meta.*"``, ``"{a,b.c}"``; ``""`` or ``"$"`` is the whole value.
    Scalars become their ``str``; lists and dicts JSON; anything missing nothing."""
    if isinstance(obj, Mapping) and not isinstance(obj, dict):
        obj = dict(obj)
    if not path or path == "$":
        return [json.dumps(obj, sort_keys=True, ensure_ascii=False)]
    tokens = tokenize_path(path) if isinstance(path, str) else path
    return _walk(obj, tokens, 0)


def _walk(obj: Any, tokens: list[str], pos: int) -> list[str]:
    if pos == len(tokens):
        return _as_text(obj)
    token = tokens[pos]
    out: list[str] = []
    if token.startswith("[") and token.endswith("]"):
        if not isinstance(obj, list):
            return []
        index = token[1:-1]
        if index == "*":
            for item in obj:
                out.extend(_walk(item, tokens, pos + 1))
            return out
        try:
            i = int(index)
        except ValueError:
            return []
        if -len(obj) <= i < len(obj):
            return _walk(obj[i], tokens, pos + 1)
        return []
    if token.startswith("{") and token.endswith("}"):
        if not isinstance(obj, dict):
            return []
        for field in (f.strip() for f in token[1:-1].split(",")):
            current: Any = obj
            for part in tokenize_path(field):
                current = current.get(part) if isinstance(current, dict) else None
                if current is None:
                    break
            if current is not None:
                out.extend(_as_text(current))
        return out
    if token == "*":
        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else ()
        for item in items:
            out.extend(_walk(item, tokens, pos + 1))
        return out
    if isinstance(obj, dict) and token in obj:
        return _walk(obj[token], tokens, pos + 1)
    return []
