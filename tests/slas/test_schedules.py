"""SLA schedules and targets: defaults from the catalog and the MSA, validation, the five-to-eight warning."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from mls.enums import Role
from mls.models import AuditEvent
from slas import services
from slas.selectors import target_count_warning
from tests.factories.engagements import EngagementFactory
from tests.factories.slas import sla_engagement

pytestmark = pytest.mark.unit

JAN = date(2026, 1, 1)


def add(schedule, tenant, **fields):
    fields = {"allocation_percent": Decimal("10"), "active_from": JAN, "target": Decimal("95"), **fields}
    return services.save_target(schedule=schedule, actor=tenant.user(Role.OWNER), **fields)


def test_schedule_starts_from_the_usual_ladder_and_targets_their_catalog_threshold(tenant_a):
    engagement = EngagementFactory(
        organization=tenant_a.organization, provider=tenant_a.provider, cr_response_business_days=7
    )
    with tenant_a.scope():
        schedule = services.create_schedule(engagement=engagement, actor=tenant_a.user(Role.OWNER))
        support = add(schedule, tenant_a, metric="support_first_response")
        change_requests = add(schedule, tenant_a, metric="change_request_response")

        assert (schedule.exit_right_after, schedule.formal_review_after, schedule.grace_days) == (3, 2, 5)
        assert support.threshold == 8  # H = 8 hours (SPEC-SLA §3)
        assert change_requests.threshold == 7  # the MSA's change-request response days
        assert AuditEvent.objects.filter(action="sla_target.created").count() == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"metric": "instructor_rating", "target": Decimal("6")}, "target", "between 1 and 5"),
        ({"metric": "support_first_response", "target": Decimal("101")}, "target", "between 0 and 100"),
        ({"metric": "session_delivery_rate", "allocation_percent": Decimal("0")}, "allocation_percent", ""),
        ({"metric": "session_delivery_rate", "threshold": 3}, "threshold", "no threshold"),
        (
            {"metric": "session_delivery_rate", "active_from": date(2026, 6, 1), "active_to": date(2026, 5, 1)},
            "active_to",
            "",
        ),
    ],
)
def test_invalid_targets_are_refused_with_a_field_error_and_nothing_saved(tenant_a, fields, field, message):
    _, schedule = sla_engagement(tenant_a, targets={})
    with tenant_a.scope():
        with pytest.raises(ValidationError) as raised:
            add(schedule, tenant_a, **fields)
        assert message in " ".join(raised.value.message_dict[field])
        assert not schedule.targets.exists()


def test_two_targets_for_one_metric_may_not_overlap_in_time(tenant_a):
    _, schedule = sla_engagement(tenant_a, targets={})
    with tenant_a.scope():
        first = add(schedule, tenant_a, metric="session_delivery_rate", active_to=date(2026, 6, 30))
        with pytest.raises(ValidationError, match="already has a target in force"):
            add(schedule, tenant_a, metric="session_delivery_rate", active_from=date(2026, 6, 1))
        # A stricter target from July replaces it cleanly.
        later = add(schedule, tenant_a, metric="session_delivery_rate", active_from=date(2026, 7, 1), target=99)

        assert list(schedule.targets.values_list("pk", flat=True).order_by("active_from")) == [first.pk, later.pk]


def test_fewer_than_five_or_more_than_eight_targets_is_a_warning_not_an_error(tenant_a):
    _, schedule = sla_engagement(tenant_a)  # four targets
    with tenant_a.scope():
        assert "4 active targets" in target_count_warning(schedule, date(2026, 3, 1))
        assert "three M's" in target_count_warning(schedule, date(2026, 3, 1))
        add(schedule, tenant_a, metric="enrollment_processing")
        assert target_count_warning(schedule, date(2026, 3, 1)) == ""
        for metric in ("platform_uptime", "assessment_pass_rate", "content_freshness", "scheduling_lead_time"):
            add(schedule, tenant_a, metric=metric)
        assert "9 active targets" in target_count_warning(schedule, date(2026, 3, 1))


def test_schedule_ladder_must_be_in_order(tenant_a):
    _, schedule = sla_engagement(tenant_a)
    with tenant_a.scope(), pytest.raises(ValidationError, match="exit right cannot come before"):
        services.update_schedule(
            schedule=schedule, actor=tenant_a.user(Role.OWNER), formal_review_after=3, exit_right_after=2
        )
