"""On PostgreSQL the database itself refuses UPDATE and DELETE of audit events (not only the ORM)."""

from django.db import migrations

from mls.postgres import postgres_only

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


class Migration(migrations.Migration):
    dependencies = [("mls", "0002_initial")]

    operations = [postgres_only(FORWARD, BACKWARD)]
