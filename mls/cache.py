"""The Django cache on Redis that degrades instead of failing.

While Redis is unreachable every cache call is answered from this process's memory (a `LocMemCache`), so sign-in,
pages and the API keep working. The cache holds only what may be lost: allauth's sign-in rate limits and its TOTP
replay guard, the API throttle's counters (`mls.api_auth.CallerThrottle`), import and export progress. What the
outage costs is precision: each process counts and remembers alone, so a rate limit allows its rate in every
process, and progress a worker writes is not seen by the web until Redis is back. The switch is logged (a warning
when Redis is lost, once per outage and process; an info line when it answers again), never silent.

Why not django-redis' IGNORE_EXCEPTIONS: it answers a failed call with "nothing" (`add` returns None), which
allauth reads as "another request holds the rate-limit lock", so after a second of retries every sign-in would be
refused as rate-limited. A local cache keeps every call's meaning (an `add` adds, an `incr` counts) while Redis is
away. django-redis underneath because its `incr` is one atomic Lua script (Django's own RedisCache checks that the
key exists, then increments: a key that expires in between comes back without a TTL).
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# socket.timeout and refused connections are OSErrors; redis-py wraps most of them in its own two.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# After a failure, calls go straight to memory for this long before Redis is tried again, so a Redis that hangs
# (a dropped host rather than a closed port) costs one socket timeout per process every few seconds, not per call.
RETRY_AFTER_SECONDS = 5.0
LOCAL_MAX_ENTRIES = 10_000

# Per process and Redis location: until when calls skip Redis (time.time()). Shared by the threads' cache objects.
_skip_redis_until: dict[str, float] = {}


class RedisWithLocalFallback(BaseCache):
    """`django_redis.cache.RedisCache` with the same LOCATION and OPTIONS, or this process's memory while Redis
    is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._server = server
        options = {**params.get("OPTIONS", {}), "IGNORE_EXCEPTIONS": False}
        self._redis = RedisCache(server, {**params, "OPTIONS": options})
        local = {name: params[name] for name in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION") if name in params}
        self._local = LocMemCache(f"mls-fallback:{server}", {**local, "OPTIONS": {"MAX_ENTRIES": LOCAL_MAX_ENTRIES}})

    def _call(self, method: str, *args: object, **kwargs: object) -> Any:
        """`method` on Redis; on this process's memory while Redis is unreachable (logged once per outage)."""
        now = time.time()
        until = _skip_redis_until.get(self._server)
        if until is not None and 0 <= until - now <= RETRY_AFTER_SECONDS:
            return getattr(self._local, method)(*args, **kwargs)
        call: Callable[..., Any] = getattr(self._redis, method)
        try:
            result = call(*args, **kwargs)
        except UNREACHABLE as error:
            if until is None:
                logger.warning(
                    "Cache: Redis unreachable (%s); answering from this process's memory until it is back", error
                )
            _skip_redis_until[self._server] = now + RETRY_AFTER_SECONDS
            return getattr(self._local, method)(*args, **kwargs)
        if _skip_redis_until.pop(self._server, None) is not None:
            logger.info("Cache: Redis answers again; entries written during the outage stay in process memory")
        return result

    def add(self, key: str, value: object, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call("add", key, value, timeout=timeout, version=version)

    def get(self, key: str, default: object = None, version: int | None = None) -> Any:
        return self._call("get", key, default=default, version=version)

    def set(self, key: str, value: object, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._call("set", key, value, timeout=timeout, version=version)

    def touch(self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call("touch", key, timeout=timeout, version=version)

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._call("delete", key, version=version)

    def get_many(self, keys: list[str], version: int | None = None) -> dict[str, Any]:
        return self._call("get_many", keys, version=version)

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._call("has_key", key, version=version)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return self._call("incr", key, delta=delta, version=version)

    def decr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return self._call("decr", key, delta=delta, version=version)

    def set_many(
        self, data: dict[str, object], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        return self._call("set_many", data, timeout=timeout, version=version)

    def delete_many(self, keys: list[str], version: int | None = None) -> None:
        self._call("delete_many", keys, version=version)

    def clear(self) -> None:
        self._call("clear")

    def close(self, **kwargs: object) -> None:
        self._redis.close(**kwargs)


def window_key(key: str, *, seconds: int, now: float) -> str:
    """The key of `key`'s counter for the fixed window of `seconds` that holds `now` (a Unix time)."""
    return f"{key}:{int(now // seconds)}"


def count_in_window(cache: BaseCache, key: str, *, seconds: int, now: float) -> int:
    """Count one more request under `key` in the fixed window of `seconds` holding `now`; the window's count so far.

    The counter is created by `cache.add` and counted by `cache.incr` (SET NX and one INCRBY on Redis), so every one
    of many concurrent requests is counted; read-modify-write (DRF's SimpleRateThrottle) loses those in between. It
    outlives its window by a minute, so the window's last requests never find it expired. The rate limits of the
    API (mls.api_auth.CallerThrottle) and of learners' sign-in links (portal.services) count with it."""
    counter = window_key(key, seconds=seconds, now=now)
    cache.add(counter, 0, timeout=seconds + 60)
    try:
        return cache.incr(counter)
    except ValueError:  # lost between the two calls (Redis went away, or evicted it): the window's first
        return 1
