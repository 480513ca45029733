"""On PostgreSQL the database keeps a finished QBR revision as it was: once it left `generating` (ready or failed)
its row refuses UPDATE, and no revision can be deleted — a new rendering is a new revision."""

from django.db import migrations

from mls.postgres import postgres_only

FORWARD = """
CREATE FUNCTION reporting_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% of a stored % row refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER reporting_qbr_finished_immutable
    BEFORE UPDATE ON reporting_quarterlyreview
    FOR EACH ROW WHEN (OLD.status <> 'generating') EXECUTE FUNCTION reporting_refuse_change();
CREATE TRIGGER reporting_qbr_kept
    BEFORE DELETE ON reporting_quarterlyreview
    FOR EACH ROW EXECUTE FUNCTION reporting_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS reporting_qbr_kept ON reporting_quarterlyreview;
DROP TRIGGER IF EXISTS reporting_qbr_finished_immutable ON reporting_quarterlyreview;
DROP FUNCTION IF EXISTS reporting_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_quarterly_review")]

    operations = [postgres_only(FORWARD, BACKWARD)]
