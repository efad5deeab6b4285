"""Fixed-window rate limits kept in the cache (local memory, or Redis at scale)."""

import time

from django.core.cache import cache


def _now() -> float:
    return time.time()


def allow(key: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit on `key`; return False once `limit` hits fall in this window."""
    window = int(_now() // window_seconds)
    cache_key = f"ratelimit:{key}:{window}"
    # add() is atomic: only the first hit in a window creates the counter.
    if cache.add(cache_key, 1, timeout=window_seconds + 1):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:
        # The counter expired between add() and incr(); this is the first hit.
        cache.set(cache_key, 1, timeout=window_seconds + 1)
        return True
    return count <= limit


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"
