"""An import job's provider is `mls.Provider` now (mls 0013 moved the model; the table and its FK constraint stay)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mls", "0013_provider_joins_tenancy_core"),
        ("scheduling", "0016_import_job_lease"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="importjob",
                    name="provider",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="The uploader's provider (blank: the client's side). A job is seen and started by "
                        "its side only.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="mls.provider",
                    ),
                ),
            ],
        ),
    ]
