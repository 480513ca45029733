"""On PostgreSQL the database itself refuses UPDATE and DELETE of audit events (not only the ORM)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION mls_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'mls_auditevent is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER mls_auditevent_append_only
    BEFORE UPDATE OR DELETE ON mls_auditevent
    FOR EACH ROW EXECUTE FUNCTION mls_auditevent_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS mls_auditevent_append_only ON mls_auditevent;
DROP FUNCTION IF EXISTS mls_auditevent_append_only();
"""


def _run_on_postgres(sql: str):  # noqa: ANN202 - migration operation factory
    def run(apps, schema_editor) -> None:  # noqa: ANN001 - Django's migration signature
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("mls", "0002_initial")]

    operations = [migrations.RunPython(_run_on_postgres(FORWARD), _run_on_postgres(BACKWARD))]
