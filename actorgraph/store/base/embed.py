"""Import-compatible path: embedding helpers for semantic search."""

from actorgraph.persistence._store_embed import (
    AEmbeddingsFunc,
    Embeddings,
    EmbeddingsFunc,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
)

__all__ = ("AEmbeddingsFunc", "EmbeddingsFunc", "ensure_embeddings")
