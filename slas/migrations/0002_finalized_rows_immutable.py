"""On PostgreSQL the database itself keeps finalized SLA results as they were (SPEC-SLA §2): a finalized period
or measurement and every breach refuse UPDATE and DELETE; a credit cannot be deleted and may only change from
issued to earned back, with its amount, metric and period untouched."""

from django.db import migrations

from mls.postgres import postgres_only

FORWARD = """
CREATE FUNCTION slas_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% of a finalized % row refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER slas_period_finalized_immutable
    BEFORE UPDATE OR DELETE ON slas_slaperiod
    FOR EACH ROW WHEN (OLD.status = 'finalized') EXECUTE FUNCTION slas_refuse_change();
CREATE TRIGGER slas_measurement_finalized_immutable
    BEFORE UPDATE OR DELETE ON slas_measurement
    FOR EACH ROW WHEN (OLD.finalized) EXECUTE FUNCTION slas_refuse_change();
CREATE TRIGGER slas_breach_immutable
    BEFORE UPDATE OR DELETE ON slas_breach
    FOR EACH ROW EXECUTE FUNCTION slas_refuse_change();
CREATE TRIGGER slas_credit_kept
    BEFORE DELETE ON slas_servicecredit
    FOR EACH ROW EXECUTE FUNCTION slas_refuse_change();
CREATE TRIGGER slas_credit_only_earned_back
    BEFORE UPDATE ON slas_servicecredit
    FOR EACH ROW WHEN (
        OLD.status <> 'issued'
        OR NEW.status <> 'earned_back'
        OR (NEW.amount, NEW.metric, NEW.period_id, NEW.breach_id, NEW.allocation_percent, NEW.currency, NEW.capped)
           IS DISTINCT FROM
           (OLD.amount, OLD.metric, OLD.period_id, OLD.breach_id, OLD.allocation_percent, OLD.currency, OLD.capped)
    ) EXECUTE FUNCTION slas_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS slas_credit_only_earned_back ON slas_servicecredit;
DROP TRIGGER IF EXISTS slas_credit_kept ON slas_servicecredit;
DROP TRIGGER IF EXISTS slas_breach_immutable ON slas_breach;
DROP TRIGGER IF EXISTS slas_measurement_finalized_immutable ON slas_measurement;
DROP TRIGGER IF EXISTS slas_period_finalized_immutable ON slas_slaperiod;
DROP FUNCTION IF EXISTS slas_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("slas", "0001_initial")]

    operations = [postgres_only(FORWARD, BACKWARD)]
