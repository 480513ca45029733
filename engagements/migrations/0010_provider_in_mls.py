"""An engagement's provider is `mls.Provider` now (mls 0013 moved the model; the table and its FK constraint stay)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0009_outcome_measurement"),
        ("mls", "0013_provider_joins_tenancy_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="engagement",
                    name="provider",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="engagements", to="mls.provider"
                    ),
                ),
            ],
        ),
    ]
