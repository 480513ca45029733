"""Lease fields of waiting work (mls.work). A row left `running` by a worker that died before this migration has no
lease: it gets one that has already run out, so the first sweep puts it back in the queue."""

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def expire_running(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    model = apps.get_model("scheduling", "importjob")
    model._base_manager.filter(status="running").update(locked_until=django.utils.timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("mls", "0010_invitation_email_outbox"),
        ("scheduling", "0015_session_capacity_1_to_1000"),
        ("vendors", "0004_updated_at_database_default"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, help_text="How many times a worker claimed it."),
        ),
        migrations.AddField(
            model_name="importjob",
            name="enqueued_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, help_text="When a worker was last asked to do it."
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="error",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="importjob",
            name="locked_until",
            field=models.DateTimeField(
                blank=True, help_text="The claiming worker's lease; blank while waiting for a worker.", null=True
            ),
        ),
        migrations.AddIndex(
            model_name="importjob",
            index=models.Index(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=["organization", "locked_until", "enqueued_at"],
                name="scheduling_importjob_waiting",
            ),
        ),
        migrations.RunPython(expire_running, migrations.RunPython.noop),
    ]
