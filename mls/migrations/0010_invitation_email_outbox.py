"""The invitation email becomes waiting work (mls.work). Invitations made before this migration had their email
sent already (or lost for good): they are marked sent, so the first sweep does not mail them all again."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mls", "0009_mfa_requirement_and_pending_signup"),
        ("vendors", "0004_updated_at_database_default"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="email_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="invitation",
            name="email_enqueued_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="invitation",
            name="email_error",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="invitation",
            name="email_locked_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invitation",
            name="email_sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invitation",
            name="email_status",
            field=models.CharField(
                choices=[
                    ("queued", "Waiting to be sent"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("cancelled", "Not sent: the invitation closed first"),
                    ("failed", "Not sent"),
                ],
                default="sent",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="email_status",
            field=models.CharField(
                choices=[
                    ("queued", "Waiting to be sent"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("cancelled", "Not sent: the invitation closed first"),
                    ("failed", "Not sent"),
                ],
                default="queued",
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(
                condition=models.Q(("email_status__in", ["queued", "sending"])),
                fields=["organization", "email_locked_until", "email_enqueued_at"],
                name="mls_invitation_email_waiting",
            ),
        ),
    ]
