"""Engagement templates, and the escalation ladder kept in one place: the SLA schedule, which the engine reads.

An engagement's copy of the ladder only seeded a new schedule. Where a schedule exists its values are the ones in
force and stay; an engagement without a schedule whose MSA ladder differs from the usual 2 / 3 / 3 gets a schedule
carrying it (with the usual SLA terms otherwise), so no agreed value is lost. Reversing copies the schedule's ladder
back onto the engagement.
"""

import django.db.models.deletion
import django.utils.timezone
from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

LADDER = ("formal_review_after", "exit_right_after", "critical_breach_count")
USUAL = (2, 3, 3)


def ladder_onto_schedules(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Engagement = apps.get_model("engagements", "Engagement")
    SlaSchedule = apps.get_model("slas", "SlaSchedule")
    for engagement in Engagement.objects.filter(sla_schedules__isnull=True).values("pk", "organization_id", *LADDER):
        ladder = tuple(engagement[name] for name in LADDER)
        if ladder != USUAL:
            SlaSchedule.objects.create(
                organization_id=engagement["organization_id"],
                engagement_id=engagement["pk"],
                **dict(zip(LADDER, ladder, strict=True)),
            )


def ladder_back_onto_engagements(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Engagement = apps.get_model("engagements", "Engagement")
    SlaSchedule = apps.get_model("slas", "SlaSchedule")
    for schedule in SlaSchedule.objects.values("engagement_id", *LADDER):
        Engagement.objects.filter(pk=schedule["engagement_id"]).update(**{name: schedule[name] for name in LADDER})


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0010_provider_in_mls"),
        ("mls", "0013_provider_joins_tenancy_core"),
        ("slas", "0010_ladder_lives_on_the_schedule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EngagementTemplate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200)),
                (
                    "content",
                    models.JSONField(
                        help_text="A TemplateContent as JSON: scope, pricing skeleton, SLA targets, cadence."
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["name"],
                "abstract": False,
            },
        ),
        migrations.RunPython(ladder_onto_schedules, ladder_back_onto_engagements),
        migrations.RemoveConstraint(
            model_name="engagement",
            name="engagements_engagement_exit_after_review",
        ),
        migrations.RemoveField(
            model_name="engagement",
            name="critical_breach_count",
        ),
        migrations.RemoveField(
            model_name="engagement",
            name="exit_right_after",
        ),
        migrations.RemoveField(
            model_name="engagement",
            name="formal_review_after",
        ),
        migrations.AddField(
            model_name="engagementtemplate",
            name="created_by",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="engagementtemplate",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="%(app_label)s_%(class)s_set",
                related_query_name="%(app_label)s_%(class)s",
                to="mls.organization",
            ),
        ),
        migrations.AddField(
            model_name="engagementtemplate",
            name="saved_from",
            field=models.ForeignKey(
                blank=True,
                help_text="Where it came from.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="engagements.engagement",
            ),
        ),
        migrations.AddConstraint(
            model_name="engagementtemplate",
            constraint=models.UniqueConstraint(
                fields=("organization", "id"), name="engagements_engagementtemplate_org_id"
            ),
        ),
        migrations.AddConstraint(
            model_name="engagementtemplate",
            constraint=models.UniqueConstraint(
                fields=("organization", "name"), name="engagements_template_unique_name"
            ),
        ),
    ]
