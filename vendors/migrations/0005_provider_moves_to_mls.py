"""`Provider` leaves `vendors` for `mls` (see mls 0013): suppliers and instructors point at `mls.Provider`, and the
model leaves this app's state only, since its table `vendors_provider` is the one `mls.Provider` keeps using. Every
other app's foreign key to it has moved first."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0010_provider_in_mls"),
        ("mls", "0013_provider_joins_tenancy_core"),
        ("scheduling", "0017_provider_in_mls"),
        ("vendors", "0004_updated_at_database_default"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="instructor",
                    name="provider",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="instructors", to="mls.provider"
                    ),
                ),
                migrations.AlterField(
                    model_name="supplier",
                    name="provider",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="suppliers", to="mls.provider"
                    ),
                ),
                migrations.DeleteModel(name="Provider"),
            ],
        ),
    ]
