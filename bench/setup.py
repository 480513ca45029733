"""What a benchmark does before it imports the app: find it, configure Django, make sure its database exists.

    import setup
    setup.django("mls_bench_qbr", CELERY_TASK_ALWAYS_EAGER="true")

DATABASE_URL (and any other variable given) may still be set from outside; bench/run sets it per scale.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


def ensure_database(url: str) -> None:
    """Create the database of `url` if the server lacks it (migrating is the benchmark's business)."""
    import psycopg  # noqa: PLC0415 - only benchmarks that own a database need it

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = {"host": parts.hostname, "port": parts.port or 5432, "user": parts.username, "password": parts.password}
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def django(database: str | None = None, **environment: str) -> None:
    """Django on `database` (a name on the local server, unless DATABASE_URL says otherwise), created if missing."""
    import django as framework  # noqa: PLC0415 - after the environment is set

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mls.settings")
    for name, value in environment.items():
        os.environ.setdefault(name, value)
    if database is not None:
        os.environ.setdefault("DATABASE_URL", f"{SERVER}/{database}")
        ensure_database(os.environ["DATABASE_URL"])
    framework.setup()
