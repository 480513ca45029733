"""`Provider` moves from `vendors` into the tenancy core, which restricts memberships, invitations and API tokens to
one. The table (`vendors_provider`) and its rows stay where they are: only Django's state moves, the two unique
constraints take the new app's names, and the content type follows so permissions and admin history keep pointing
at the providers."""

from functools import partial

import django.db.models.deletion
import django.db.models.functions.datetime
import django.utils.timezone
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FOREIGN_KEY = {"blank": True, "null": True, "on_delete": django.db.models.deletion.PROTECT, "to": "mls.provider"}


def content_type_follows(apps: Apps, schema_editor: BaseDatabaseSchemaEditor, *, source: str, target: str) -> None:
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label=target, model="provider").exists():
        content_types.filter(app_label=source, model="provider").update(app_label=target)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("mls", "0012_idempotency_key_response_headers"),
        ("vendors", "0004_updated_at_database_default"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Provider",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(auto_now=True, db_default=django.db.models.functions.datetime.Now()),
                        ),
                        ("name", models.CharField(max_length=200)),
                        ("contact_email", models.EmailField(blank=True, max_length=254)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="%(app_label)s_%(class)s_set",
                                related_query_name="%(app_label)s_%(class)s",
                                to="mls.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "vendors_provider",
                        "ordering": ["name"],
                        "abstract": False,
                        # As the table has them; renamed below.
                        "constraints": [
                            models.UniqueConstraint(fields=("organization", "id"), name="vendors_provider_org_id"),
                            models.UniqueConstraint(
                                fields=("organization", "name"), name="vendors_provider_unique_name"
                            ),
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="apitoken",
                    name="provider",
                    field=models.ForeignKey(
                        help_text="Restrict the token to one provider's delivery; it then acts like that provider's "
                        "account manager.",
                        **FOREIGN_KEY,
                    ),
                ),
                migrations.AlterField(model_name="invitation", name="provider", field=models.ForeignKey(**FOREIGN_KEY)),
                migrations.AlterField(model_name="membership", name="provider", field=models.ForeignKey(**FOREIGN_KEY)),
            ],
        ),
        migrations.RemoveConstraint(model_name="provider", name="vendors_provider_org_id"),
        migrations.AddConstraint(
            model_name="provider",
            constraint=models.UniqueConstraint(fields=("organization", "id"), name="mls_provider_org_id"),
        ),
        migrations.RemoveConstraint(model_name="provider", name="vendors_provider_unique_name"),
        migrations.AddConstraint(
            model_name="provider",
            constraint=models.UniqueConstraint(fields=("organization", "name"), name="mls_provider_unique_name"),
        ),
        migrations.RunPython(
            partial(content_type_follows, source="vendors", target="mls"),
            partial(content_type_follows, source="mls", target="vendors"),
        ),
    ]
