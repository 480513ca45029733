"""mls.cache.RedisWithLocalFallback on a real Redis, on a closed port, and on a Redis server that stops and starts
again: every call keeps its meaning, the outage is logged once, Redis is used again once it is back."""

import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from django.core.cache import cache

from tests.mls.conftest import closed_port, production_cache

pytestmark = pytest.mark.unit

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mls.cache" and r.levelno == logging.WARNING]


def _wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def test_counter_on_reachable_redis_lives_in_redis(redis_cache):
    assert cache.add("calls", 0, timeout=60) is True

    counts = [cache.incr("calls") for _ in range(3)]

    assert counts == [1, 2, 3]
    stored = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert stored.get(f"{redis_cache}:1:calls") == b"3"
    assert 0 < stored.ttl(f"{redis_cache}:1:calls") <= 60


def test_unreachable_redis_is_answered_from_process_memory_and_logged_once(redis_down, caplog):
    caplog.set_level(logging.INFO, logger="mls.cache")

    added = (cache.add("calls", 0, timeout=60), cache.add("calls", 0, timeout=60))
    counts = [cache.incr("calls") for _ in range(3)]
    cache.set_many({"a": 1, "b": 2})
    many = cache.get_many(["a", "b", "missing"])
    deleted = cache.delete("a")

    assert added == (True, False)  # an add adds once, so allauth's locks and TOTP replay guard keep their meaning
    assert counts == [1, 2, 3]
    assert many == {"a": 1, "b": 2}
    assert (deleted, cache.get("a"), cache.get("b")) == (True, None, 2)
    assert len(_outage_warnings(caplog)) == 1
    assert "answering from this process's memory" in _outage_warnings(caplog)[0]


class RedisServer:
    """A Redis server of one test's own on a free port, without persistence, that the test stops and starts."""

    def __init__(self, directory: Path) -> None:
        self.port = closed_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(command, cwd=self._directory, stdout=subprocess.DEVNULL)  # noqa: S603 (our argv)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        _wait_for(lambda: _answers(client), 10, "the test's Redis server")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


def _answers(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_cache_falls_back_when_redis_stops_and_uses_redis_again_once_back(settings, redis_server, time_machine, caplog):
    caplog.set_level(logging.INFO, logger="mls.cache")
    time_machine.move_to(NOON, tick=False)
    settings.CACHES = production_cache(redis_server.url)
    cache.set("before", "in redis")

    redis_server.stop()
    during = (cache.get("before"), cache.add("during", "in memory"))
    redis_server.start()
    time_machine.move_to(NOON + timedelta(seconds=3))
    still_skipping_redis = cache.get("during")  # within 5 s of the failure Redis is not asked
    time_machine.move_to(NOON + timedelta(seconds=6))
    cache.set("after", "in redis")

    assert during == (None, True)  # what Redis held is out of reach; this process's memory takes the add
    assert still_skipping_redis == "in memory"
    # Back on Redis (restarted empty): the outage's entries stay behind in memory, new ones go to Redis.
    assert (cache.get("during"), cache.get("after")) == (None, "in redis")
    assert redis.Redis(port=redis_server.port).exists(f"{settings.CACHES['default']['KEY_PREFIX']}:1:after") == 1
    assert len(_outage_warnings(caplog)) == 1
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO][-1].startswith(
        "Cache: Redis answers again"
    )
