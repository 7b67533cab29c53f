"""Import-compatible path: the Redis node cache (pass your own ``redis`` client)."""

from actorgraph.persistence._cache_redis import RedisCache

__all__ = ("RedisCache",)
