"""engagements 0011 moves the escalation ladder onto the SLA schedule without losing an agreed value: run against
the real database, from the state before it to after it and back."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import OrganizationFactory, ProviderFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BEFORE = [("engagements", "0010_provider_in_mls")]
AFTER = [("engagements", "0011_ladder_on_sla_schedule_and_templates")]
SLAS = ("slas", "0010_ladder_lives_on_the_schedule")
LADDER = ("formal_review_after", "exit_right_after", "critical_breach_count")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # The state of both apps the migration touches (slas 0010 stays applied throughout).
    return MigrationExecutor(connection).loader.project_state([*targets, SLAS]).apps


def test_the_ladder_moves_onto_schedules_and_back_keeping_every_agreed_value():
    organization = OrganizationFactory()
    provider = ProviderFactory(organization=organization)
    old = migrate(BEFORE)
    try:
        engagement_model = old.get_model("engagements", "Engagement")

        def engagement(name, ladder):
            return engagement_model.objects.create(
                organization_id=organization.pk,
                provider_id=provider.pk,
                name=name,
                engagement_model="managed_services",
                vendor_model="neutral_vendor",
                currency="GBP",
                timezone="Europe/London",
                holiday_country="GB",
                start_date=date(2026, 1, 1),
                end_date=date(2027, 12, 31),
                annual_value=Decimal("1000"),
                **dict(zip(LADDER, ladder, strict=True)),
            )

        scheduled = engagement("Scheduled", (3, 4, 3))
        old.get_model("slas", "SlaSchedule").objects.create(
            organization_id=organization.pk, engagement_id=scheduled.pk, **dict(zip(LADDER, (4, 5, 2), strict=True))
        )
        agreed = engagement("Agreed in the MSA", (3, 4, 5))
        usual = engagement("Usual terms", (2, 3, 3))

        new = migrate(AFTER)
        schedules = new.get_model("slas", "SlaSchedule").objects

        assert {row["engagement_id"]: tuple(row[name] for name in LADDER) for row in schedules.values()} == {
            scheduled.pk: (4, 5, 2),  # the schedule's values were the ones in force
            agreed.pk: (3, 4, 5),  # no schedule yet: one now carries the MSA's ladder
        }
        assert schedules.get(engagement_id=agreed.pk).at_risk_percent == Decimal("10.00")  # the usual terms
        assert not schedules.filter(engagement_id=usual.pk).exists()

        reverted = migrate(BEFORE).get_model("engagements", "Engagement").objects
        assert reverted.filter(pk=scheduled.pk).values_list(*LADDER).get() == (4, 5, 2)
    finally:
        migrate(AFTER)
