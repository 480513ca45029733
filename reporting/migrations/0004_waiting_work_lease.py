"""Lease fields of waiting work (mls.work). A row left `running` by a worker that died before this migration has no
lease: it gets one that has already run out, so the first sweep puts it back in the queue."""

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def expire_running(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    model = apps.get_model("reporting", "dataexport")
    model._base_manager.filter(status="running").update(locked_until=django.utils.timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0009_outcome_measurement"),
        ("mls", "0010_invitation_email_outbox"),
        ("reporting", "0003_dataexport"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="dataexport",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, help_text="How many times a worker claimed it."),
        ),
        migrations.AddField(
            model_name="dataexport",
            name="enqueued_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, help_text="When a worker was last asked to do it."
            ),
        ),
        migrations.AddField(
            model_name="dataexport",
            name="locked_until",
            field=models.DateTimeField(
                blank=True, help_text="The claiming worker's lease; blank while waiting for a worker.", null=True
            ),
        ),
        migrations.AddField(
            model_name="quarterlyreview",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, help_text="How many times a worker claimed it."),
        ),
        migrations.AddField(
            model_name="quarterlyreview",
            name="enqueued_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, help_text="When a worker was last asked to do it."
            ),
        ),
        migrations.AddField(
            model_name="quarterlyreview",
            name="locked_until",
            field=models.DateTimeField(
                blank=True, help_text="The claiming worker's lease; blank while waiting for a worker.", null=True
            ),
        ),
        migrations.AddIndex(
            model_name="dataexport",
            index=models.Index(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=["organization", "locked_until", "enqueued_at"],
                name="reporting_dataexport_waiting",
            ),
        ),
        migrations.AddIndex(
            model_name="quarterlyreview",
            index=models.Index(
                condition=models.Q(("status", "generating")),
                fields=["organization", "locked_until", "enqueued_at"],
                name="reporting_qbr_waiting",
            ),
        ),
        migrations.RunPython(expire_running, migrations.RunPython.noop),
    ]
