"""A local webhook receiver: the outside world of webhooks, real HTTP on 127.0.0.1 (STYLE.md: mock only that); the
cache and broker on a real Redis, or on a closed port."""

import json
import os
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import mls.settings as project_settings
from mls.celery import app as celery_app
from mls.webhooks import verify_signature


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next of `statuses` (the last one repeats) and checks its signature with `secret`
    the way an integrator would."""

    url: str = ""
    secret: str = ""
    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)

    def next_status(self) -> int:
        return self.statuses[min(len(self.requests), len(self.statuses) - 1)]


def _serve(state: Receiver, tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            valid = verify_signature(state.secret, self.headers["MLS-Signature"], body, datetime.now(UTC))
            status = state.next_status()
            state.requests.append(Received(dict(self.headers), body, valid))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"receiver says no")

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    state.url = f"https://localhost:{port}/hooks/mls" if tls else f"http://127.0.0.1:{port}/hooks/mls"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True  # the development allowance: a receiver on this machine
    yield from _serve(Receiver())


@pytest.fixture
def localhost_certificate(tmp_path) -> Path:
    """A self-signed certificate (and its key) for the name localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "localhost.pem"
    path.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


@pytest.fixture
def https_receiver(settings, localhost_certificate) -> Iterator[Receiver]:
    """The receiver behind TLS at https://localhost:<port>/ with the certificate above."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(localhost_certificate)
    yield from _serve(Receiver(), tls)


# --- Redis reachable or not: the cache and the broker of mls/cache.py and mls.celery.broker_reachable -------------


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused, as with a wrong REDIS_URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_cache(location: str) -> dict[str, dict[str, object]]:
    """CACHES as mls/settings.py makes it from REDIS_URL (each test runs on a locmem cache instead, tests/conftest.py)
    but at `location`, under a key prefix of one test's own."""
    assert project_settings.REDIS_URL, "this test needs REDIS_URL (the production cache configuration)"
    return {
        "default": {
            **project_settings.CACHES["default"],
            "LOCATION": location,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        }
    }


@pytest.fixture
def redis_cache(settings) -> Iterator[str]:
    """The production cache on the real Redis of REDIS_URL; its keys are deleted afterwards. Yields the prefix."""
    url = os.environ.get("REDIS_URL", "")
    assert url.startswith("redis://"), "this test needs REDIS_URL (a real Redis)"
    settings.CACHES = production_cache(url)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    yield prefix
    client = redis.Redis.from_url(url)
    if keys := list(client.scan_iter(f"{prefix}:*")):
        client.delete(*keys)


@pytest.fixture
def redis_down(settings) -> Iterator[str]:
    """Cache and broker at a closed port (Redis unreachable), tasks no longer eager. Yields the broker URL."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = production_cache(url)
    previous = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = url, False
    yield url
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
