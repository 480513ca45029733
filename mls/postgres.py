"""Database features that exist only on PostgreSQL (triggers, exclusion constraints), for migrations.

The test suite and production run on PostgreSQL; the zero-config SQLite run path skips these and relies on the
equivalent checks in services.
"""

from django.db import migrations


def postgres_only(forward_sql: str, backward_sql: str) -> migrations.RunPython:
    def run(sql: str):
        def apply(apps, schema_editor) -> None:  # noqa: ANN001 - Django's migration signature
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql, params=None)

        return apply

    return migrations.RunPython(run(forward_sql), run(backward_sql))
